"""An aiohttp web app that streams uploads into a store and downloads out of it.

Run it:  python docs/examples/aiohttp_app.py --store fs:///tmp/aiostore-demo --port 8080
Then:    curl -T photo.jpg http://127.0.0.1:8080/files/photo.jpg
         curl http://127.0.0.1:8080/files/photo.jpg -o copy.jpg

Neither direction holds a whole file in memory: the request body is read chunk
by chunk into `store.writer`, and the response is written chunk by chunk from
`store.reader`. A client that disconnects mid-upload cancels the handler, the
writer aborts, and nothing partial is left in the store.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

from aiohttp import web

import aiostore

STORE = web.AppKey("store", aiostore.Store)
CHUNK = 1024 * 1024


async def upload(request: web.Request) -> web.Response:
    store = request.app[STORE]
    path = request.match_info["path"]
    async with store.writer(path, content_type=request.content_type) as writer:
        async for chunk in request.content.iter_chunked(CHUNK):
            await writer.write(chunk)
    assert writer.object is not None
    return web.json_response({"path": path, "size": writer.object.size}, status=201)


async def download(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE]
    async with store.reader(request.match_info["path"]) as reader:
        obj = reader.object
        content_type = obj.content_type or "application/octet-stream"
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.content_length = obj.size
        await response.prepare(request)
        async for chunk in reader:
            await response.write(chunk)
    await response.write_eof()
    return response


@web.middleware
async def storage_errors(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Turn aiostore's typed errors into HTTP statuses."""
    try:
        return await handler(request)
    except aiostore.NotFoundError:
        raise web.HTTPNotFound() from None
    except aiostore.InvalidArgumentError as error:
        raise web.HTTPBadRequest(text=error.message) from None


def make_app(store_url: str) -> web.Application:
    app = web.Application(middlewares=[storage_errors])

    async def store_context(app: web.Application) -> AsyncIterator[None]:
        async with aiostore.connect(store_url) as store:
            app[STORE] = store
            yield

    app.cleanup_ctx.append(store_context)
    app.router.add_put("/files/{path:.+}", upload)
    app.router.add_get("/files/{path:.+}", download)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default="fs:///tmp/aiostore-demo")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    web.run_app(make_app(args.store), host="127.0.0.1", port=args.port)
