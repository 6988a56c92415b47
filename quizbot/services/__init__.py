"""Business rules. Services take plain values, raise APIError subclasses and never touch request."""
