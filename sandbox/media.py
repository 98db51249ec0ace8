"""sendPhoto, sendDocument and getFile: uploads are kept in memory for the page to show."""

from __future__ import annotations

import mimetypes
import secrets
import struct

from sandbox.keyboards import read_markup
from sandbox.messages import caption, deliver, target
from sandbox.protocol import Json, Params, Upload, bad_request
from sandbox.world import Method, StoredFile, World

PHOTO_LIMIT = 10 * 1024 * 1024


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(mime type, width, height) of a PNG, GIF or JPEG; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[str, int, int] | None:
    index = 2
    while index + 9 <= len(data) and data[index] == 0xFF:
        marker = data[index + 1]
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return "image/jpeg", width, height
        index += 2 + length
    return None


def new_file(
    world: World, kind: str, name: str, mime: str, data: bytes = b"", url: str = ""
) -> StoredFile:
    number = next(world.file_numbers)
    # Unguessable, like Telegram's: the page serves files by id.
    file_id = f"{kind[:3]}{number}-{secrets.token_urlsafe(12)}"
    return StoredFile(file_id, f"u{number}", kind, name, mime, data, url)


def input_file(world: World, p: Params, field: str) -> StoredFile:
    """The file a method sends: an upload (`attach://` or a part of that name), a file_id
    the bot got before, or an HTTP URL (which the sandbox only links to)."""
    value = p.text(field)
    upload: Upload | None = p.files.get(value.removeprefix("attach://")) or p.files.get(field)
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        mime = upload.content_type
        if mime == "application/octet-stream":  # what aiohttp says for any part; guess
            mime = mimetypes.guess_type(upload.filename)[0] or mime
        return new_file(world, field, upload.filename, mime, upload.data)
    if value in world.files:
        return world.files[value]
    if value.startswith(("http://", "https://")):
        return new_file(world, field, value.rsplit("/", 1)[-1] or field, "", url=value)
    if not value:
        raise bad_request(f"there is no {field} in the request")
    raise bad_request("wrong file identifier/HTTP URL specified")


async def send_photo(world: World, p: Params) -> Json:
    user = target(world, p)
    photo = input_file(world, p, "photo")
    if photo.data and photo.file_id not in world.files:
        size = image_size(photo.data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        if len(photo.data) > PHOTO_LIMIT:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        photo.mime_type, photo.width, photo.height = size
    world.files[photo.file_id] = photo
    size_json: Json = {
        "file_id": photo.file_id,
        "file_unique_id": photo.file_unique_id,
        "width": photo.width,
        "height": photo.height,
    }
    if photo.data:
        size_json["file_size"] = len(photo.data)
    content = {"photo": [size_json], **caption(p)}
    return deliver(world, user, content, p, read_markup(p))


async def send_document(world: World, p: Params) -> Json:
    user = target(world, p)
    document = input_file(world, p, "document")
    world.files[document.file_id] = document
    doc: Json = {
        "file_id": document.file_id,
        "file_unique_id": document.file_unique_id,
        "file_name": document.name,
    }
    if document.mime_type:
        doc["mime_type"] = document.mime_type
    if document.data:
        doc["file_size"] = len(document.data)
    content = {"document": doc, **caption(p)}
    return deliver(world, user, content, p, read_markup(p))


async def get_file(world: World, p: Params) -> Json:
    stored = world.files.get(p.text("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    if not stored.data:
        raise bad_request("file is temporarily unavailable")
    if len(stored.data) > 20 * 1024 * 1024:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.path,
    }


METHODS: dict[str, Method] = {
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "getFile": get_file,
}
