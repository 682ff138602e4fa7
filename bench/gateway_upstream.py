"""A fast fake OpenAI-compatible upstream for bench/gateway, on 127.0.0.1 only.

POST /v1/chat/completions answers a fixed text of CHUNKS words, plain or as an SSE
stream of CHUNKS content chunks (each its own write, as a real server sends them), then
the finish chunk, a usage chunk and [DONE]. A request whose last message is PACED_PROMPT
is streamed with PACE_MS between chunks, to show whether a gateway passes a stream on as
it comes or holds it back (the prompt travels through every gateway unchanged). No other work per request: the gateways' cost is what is left
when the direct time is subtracted.

    python gateway_upstream.py PORTFILE     # writes the chosen port to PORTFILE
"""

import asyncio
import json
import os
import sys

from aiohttp import web

CHUNKS = 20
PACE_MS = 2
PACED_PROMPT = "Say the twenty words slowly."
WORDS = [f"w{i} " for i in range(CHUNKS)]
TEXT = "".join(WORDS)
USAGE = {"prompt_tokens": 12, "completion_tokens": CHUNKS, "total_tokens": 12 + CHUNKS}


def chunk(model, delta, finish=None):
    c = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(c).encode() + b"\n\n"


async def completions(request):
    body = await request.json()
    model = body.get("model", "fake")
    last = (body.get("messages") or [{}])[-1].get("content")
    pace = PACE_MS / 1000 if last == PACED_PROMPT else 0
    if not body.get("stream"):
        return web.json_response({
            "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}],
            "usage": USAGE})
    resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
    await resp.prepare(request)
    await resp.write(chunk(model, {"role": "assistant", "content": ""}))
    for w in WORDS:
        if pace:
            await asyncio.sleep(pace)
        await resp.write(chunk(model, {"content": w}))
    await resp.write(chunk(model, {}, "stop"))
    tail = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
            "choices": [], "usage": USAGE}
    await resp.write(b"data: " + json.dumps(tail).encode() + b"\n\ndata: [DONE]\n\n")
    await resp.write_eof()
    return resp


async def models(_request):
    return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "bench"}]})


async def main(portfile):
    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/v1/models", models)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    with open(portfile + ".tmp", "w") as f:
        f.write(str(port))
    os.replace(portfile + ".tmp", portfile)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
