"""A small library API: the Flask example `gatehouse scan` is tested against."""

from flask import Flask
from flask.views import MethodView

from .authors import api_v2
from .books import bp as books_bp


def health():
    """Liveness probe."""
    return {"status": "ok"}


class Stats(MethodView):
    def get(self):
        return {}


def create_app():
    app = Flask(__name__)
    # The registration's url_prefix replaces the blueprint's own "/books".
    app.register_blueprint(books_bp, url_prefix="/api/books")
    app.register_blueprint(api_v2)
    # gatehouse: public
    app.add_url_rule("/healthz", view_func=health)
    app.add_url_rule("/stats", view_func=Stats.as_view("stats"))
    return app
