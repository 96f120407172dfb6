#!/usr/bin/env python3
"""A TCP relay that adds a round-trip time: every chunk read on either side
is written to the other side RTT/2 milliseconds later (order kept). For
bench/proxy.sh: the link to the backend as if it were remote. Loopback
only; runs until killed.

    delay_relay.py LISTEN_PORT TARGET_PORT RTT_MS"""
import asyncio
import sys


async def pump(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def sender():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    task = asyncio.ensure_future(sender())
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + delay, data or None))
            if not data:
                break
    except OSError:
        await queue.put((loop.time(), None))
    await task


async def handle(cr, cw, target, delay):
    try:
        tr, tw = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pump(cr, tw, delay), pump(tr, cw, delay),
                         return_exceptions=True)


async def main(listen, target, rtt_ms):
    delay = rtt_ms / 2000.0
    srv = await asyncio.start_server(lambda r, w: handle(r, w, target, delay),
                                     "127.0.0.1", listen, backlog=256)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
