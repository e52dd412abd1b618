"""OpenAI media endpoints: ``/v1/embeddings``, ``/v1/images/generations``,
``/v1/audio/transcriptions`` (multipart), and the GET lists of their models."""

from __future__ import annotations

from aiohttp import web

from omni.errors import InvalidInputError
from omni.gateway import media
from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes.reply import send

_AUDIO_TYPES = ("mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm", "flac", "ogg", "oga")


async def embeddings(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    reply = await media.embeddings(request.app[keys.GATEWAY], Dialect.OPENAI_CHAT, body)
    return await send(request, reply)


async def embedding_models(request: web.Request) -> web.Response:
    body = media.model_list(request.app[keys.GATEWAY], media.EMBEDDING_HINTS)
    return web.Response(body=body, content_type="application/json")


async def images(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    return await send(request, await media.images(request.app[keys.GATEWAY], body))


async def image_models(request: web.Request) -> web.Response:
    body = media.model_list(request.app[keys.GATEWAY], media.IMAGE_HINTS)
    return web.Response(body=body, content_type="application/json")


async def transcriptions(request: web.Request) -> web.StreamResponse:
    if not request.content_type.startswith("multipart/"):
        raise InvalidInputError("send the audio as multipart/form-data with 'file' and 'model'")
    try:
        form = await request.post()
    except ValueError:  # multipart without a boundary
        raise InvalidInputError("the multipart Content-Type has no boundary") from None
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise InvalidInputError("the form needs a 'file' field with the audio")
    extension = upload.filename.rpartition(".")[2].lower()
    if extension not in _AUDIO_TYPES:
        raise InvalidInputError(
            f"unsupported audio file type '.{extension}'; use one of {', '.join(_AUDIO_TYPES)}"
        )
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    file = (upload.filename, upload.file.read(), upload.content_type)
    reply = await media.transcription(request.app[keys.GATEWAY], fields, file)
    return await send(request, reply)


def setup(app: web.Application) -> None:
    for prefix in ("/v1", ""):
        app.router.add_post(f"{prefix}/embeddings", embeddings)
        app.router.add_get(f"{prefix}/embeddings", embedding_models)
        app.router.add_post(f"{prefix}/images/generations", images)
        app.router.add_get(f"{prefix}/images/generations", image_models)
        app.router.add_post(f"{prefix}/audio/transcriptions", transcriptions)
