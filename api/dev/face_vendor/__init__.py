"""A stand-in for the face-verification vendor (a separate HTTP service, for tests and the
demo): ``create_vendor_app(webhook_secret, api_key)``, or ``python -m api.dev.face_vendor``."""

from api.dev.face_vendor.app import create_vendor_app

__all__ = ["create_vendor_app"]
