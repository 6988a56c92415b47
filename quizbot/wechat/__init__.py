"""WeChat Official Account (/wechat) and WeCom (/wecom) callbacks: plain text/XML, not /api."""

from .views import bp

__all__ = ["bp"]
