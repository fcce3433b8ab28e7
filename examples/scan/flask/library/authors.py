from flask import Blueprint, request

api_v2 = Blueprint("api_v2", __name__, url_prefix="/api/v2")
authors = Blueprint("authors", __name__, url_prefix="/authors")


@authors.get("/<uuid:author_id>")
def get_author(author_id):
    tenant = request.headers["X-Tenant"]
    session = request.cookies.get("session")
    return {"id": str(author_id), "tenant": tenant}


@authors.post("/<uuid:author_id>/portrait")
def upload_portrait(author_id):
    image = request.files["image"]
    return {"size": len(image.read())}


@authors.route("/search")
def search_authors():
    field = "name"
    value = request.args.get(field)
    return {"field": field, "value": value}


# Registered last, after the routes: Flask records them either way.
api_v2.register_blueprint(authors)
