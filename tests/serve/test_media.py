"""Images and transcriptions go to an OpenAI-compatible upstream with the model rewritten."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import openai
from aiohttp import web

from omni.config import Settings
from tests.serve.conftest import usage_rows


async def test_images_and_transcriptions(
    aiohttp_server: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> None:  # fmt: skip
    seen: dict[str, Any] = {}

    async def images(request: web.Request) -> web.Response:
        seen["images"] = await request.json()
        return web.json_response({"created": 1, "data": [{"b64_json": "aGk="}]})

    async def audio(request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        seen["audio"] = {
            "model": form["model"],
            "name": upload.filename,
            "bytes": upload.file.read(),
            "format": form.get("response_format"),
        }
        if form.get("response_format") == "text":
            return web.Response(text="hello world")
        return web.json_response({"text": "hello world"})

    app = web.Application()
    app.router.add_post("/v1/images/generations", images)
    app.router.add_post("/v1/audio/transcriptions", audio)
    server = await aiohttp_server(app)
    await asyncio.to_thread(
        add_provider, "media", base_url=str(server.make_url("/v1")), api_key="k",
        models=["gpt-image-1", "whisper-1"], sync_models=False,
    )  # fmt: skip
    http = await make_client()
    sdk = openai.AsyncOpenAI(base_url=str(http.make_url("/v1")), api_key="k", max_retries=0)

    image = await sdk.images.generate(model="media/gpt-image-1", prompt="a cat")
    assert image.data is not None and image.data[0].b64_json == "aGk="
    assert seen["images"]["model"] == "gpt-image-1"
    listed = await (await http.get("/v1/images/generations")).json()
    assert [m["id"] for m in listed["data"]] == ["media/gpt-image-1"]

    text = await sdk.audio.transcriptions.create(
        model="media/whisper-1", file=("clip.wav", b"RIFF0000WAVE")
    )
    assert text.text == "hello world"
    assert seen["audio"] == {"model": "whisper-1", "name": "clip.wav",
                             "bytes": b"RIFF0000WAVE", "format": None}  # fmt: skip
    plain = await sdk.audio.transcriptions.create(
        model="media/whisper-1", file=("clip.mp3", b"ID3"), response_format="text"
    )
    assert plain.strip() == "hello world"

    bad = await http.post("/v1/audio/transcriptions", data={"model": "media/whisper-1"})
    assert bad.status == 400
    rows = await usage_rows(http, settings)
    assert [r["endpoint"] for r in rows] == [
        "/v1/images/generations", "/v1/audio/transcriptions", "/v1/audio/transcriptions",
    ]  # fmt: skip
    await sdk.close()
