"""The issue's baseline: python-hl7's asyncio MLLP server that parses each message
(`hl7.parse`) and answers with its `create_ack()` (MSA-1 AA), storing nothing.

    .venv/bin/python benchmarks/hl7_echo_server.py PORT
"""

from __future__ import annotations

import asyncio
import sys
from asyncio import IncompleteReadError

import hl7
from hl7.mllp import HL7StreamReader, HL7StreamWriter, start_hl7_server


async def handle(reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
    try:
        while True:
            message: hl7.Message = await reader.readmessage()
            writer.writemessage(message.create_ack())
            await writer.drain()
    except (IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await start_hl7_server(
        handle, "127.0.0.1", port, encoding="utf-8", encoding_errors="replace"
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
