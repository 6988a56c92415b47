"""Officer accounts: creation and password hashing."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User

ADMIN_USERNAME = "admin"


def hash_password(password: str) -> str:
    """scrypt hash (werkzeug's default)."""
    return generate_password_hash(password, method="scrypt")


def verify_password(user: User, password: str) -> bool:
    """Constant-time check of a password against the stored hash."""
    return check_password_hash(user.password_hash, password)


def ensure_first_admin(password: str) -> User | None:
    """Create ``admin`` when the user table is empty; return it, or None when users exist."""
    if db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one():
        return None
    user = User(username=ADMIN_USERNAME, password_hash=hash_password(password), role="admin",
                must_change_password=True)
    db.session.add(user)
    db.session.commit()
    return user
