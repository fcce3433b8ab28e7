from flask import Blueprint, abort, jsonify, request

bp = Blueprint("books", __name__, url_prefix="/books")

BOOKS = {}


@bp.route("/", methods=["GET"])
def list_books():
    """List books.

    Filtered by title substring and tags.
    """
    limit = request.args.get("limit", 20, type=int)
    q = request.args.get("q")
    tags = request.args.getlist("tag")
    return jsonify(list(BOOKS.values())[:limit])


# gatehouse: scopes=books:write
@bp.route("/", methods=["POST"])
def create_book():
    data = request.get_json()
    BOOKS[len(BOOKS) + 1] = data
    return data, 201


@bp.get("/<int:book_id>")
def get_book(book_id):
    return BOOKS.get(book_id) or abort(404)


# gatehouse: scopes=books:write
@bp.route("/<int:book_id>", methods=["PUT", "DELETE"])
def change_book(book_id):
    if request.method == "DELETE":
        BOOKS.pop(book_id, None)
        return "", 204
    BOOKS[book_id] = request.json
    return BOOKS[book_id]


@bp.route("/<int:book_id>/cover/<path:filename>")
def cover(book_id, filename):
    size = request.args.get("size", type=float)
    return filename
