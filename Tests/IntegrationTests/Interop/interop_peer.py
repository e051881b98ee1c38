"""A small py-libp2p (0.8.1) peer for Phantom Trail's interop tests.

Noise + Yamux only; identify, ping and /perf/1.0.0 are py-libp2p's own handlers; one extra
protocol, /phantom-trail/echo/1.0.0, echoes a stream's bytes after the writer half-closes.
Every event is one JSON line on stdout; the first is "listening".

    python interop_peer.py [--listen MA] [--dial MA [--ping-count N] [--echo-streams N --echo-bytes B]
                           [--perf-upload B --perf-download B] [--connect-count N]] [--duration S]

With --dial the peer connects, identifies, pings, runs the echo streams and, when --perf-upload
or --perf-download is given, one perf run as the client (event "perf" with the byte counts and
seconds), prints "done" and exits (closing the connection). With --connect-count N it instead
connects and disconnects N times in a row (each a new connection through the whole upgrade) and
reports "connections" with the count and seconds, for the benchmarks. Without it, it identifies every
inbound peer and serves (perf included) until the duration ends, SIGTERM or SIGINT.
"""

import argparse
import json
import os
import signal
import sys
import time

import multiaddr
import trio

from libp2p import new_host
from libp2p.abc import INotifee
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.serialization import deserialize_public_key
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.host.ping import ID as PING_PROTOCOL
from libp2p.identity.identify.identify import ID as IDENTIFY_PROTOCOL
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.perf import PerfService
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL, Transport as Noise
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL, Yamux

ECHO_PROTOCOL = "/phantom-trail/echo/1.0.0"
MAX_IDENTIFY_BYTES = 64 * 1024
MAX_ECHO_BYTES = 1 << 20


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}, separators=(",", ":")), flush=True)


def multiaddr_text(raw):
    try:
        return str(multiaddr.Multiaddr(raw))
    except Exception:
        return "0x" + raw.hex()


async def read_to_end(stream, limit):
    data = b""
    while True:
        try:
            chunk = await stream.read(65536)
        except Exception:
            break
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise ValueError(f"more than {limit} bytes")
    return data


def read_uvarint(data, offset):
    value, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


class Peer:
    def __init__(self, args):
        self.args = args
        self.key_pair = create_new_key_pair()
        self.host = new_host(
            key_pair=self.key_pair,
            sec_opt={NOISE_PROTOCOL: Noise(self.key_pair, noise_privkey=create_x25519_key_pair().private_key)},
            muxer_opt={YAMUX_PROTOCOL: Yamux},
        )
        self.host.set_stream_handler(ECHO_PROTOCOL, self.echo)
        self.perf = PerfService(self.host)
        self.nursery = None
        self.identified = set()

    async def echo(self, stream):
        try:
            data = await read_to_end(stream, MAX_ECHO_BYTES)
            await stream.write(data)
            await stream.close()
        except Exception as exc:
            emit("error", op="echo", error=repr(exc))

    async def identify(self, peer_id):
        try:
            stream = await self.host.new_stream(peer_id, [IDENTIFY_PROTOCOL])
            with trio.fail_after(10):
                data = await read_to_end(stream, MAX_IDENTIFY_BYTES)
            await stream.close()
            message, offset = Identify(), 0
            while offset < len(data):
                size, offset = read_uvarint(data, offset)
                message.MergeFromString(data[offset:offset + size])
                offset += size
        except Exception as exc:
            emit("error", op="identify", peer_id=str(peer_id), error=repr(exc))
            return
        emit(
            "identify",
            peer_id=str(peer_id),
            protocol_version=message.protocol_version,
            agent_version=message.agent_version,
            protocols=sorted(message.protocols),
            listen_addrs=[multiaddr_text(a) for a in message.listen_addrs],
            public_key_matches=bool(message.public_key)
            and ID.from_pubkey(deserialize_public_key(message.public_key)) == peer_id,
        )

    async def ping(self, peer_id, count):
        stream = await self.host.new_stream(peer_id, [PING_PROTOCOL])
        for seq in range(1, count + 1):
            payload = os.urandom(32)
            started = time.perf_counter()
            await stream.write(payload)
            echo = b""
            with trio.fail_after(10):
                while len(echo) < 32:
                    chunk = await stream.read(32 - len(echo))
                    if not chunk:
                        raise EOFError("ping stream closed")
                    echo += chunk
            if echo != payload:
                raise ValueError("ping echo differs")
            emit("ping", peer_id=str(peer_id), seq=seq, rtt_ms=round((time.perf_counter() - started) * 1000, 3))
        await stream.close()

    async def echo_stream(self, peer_id, index, size, results):
        payload = os.urandom(size)
        stream = await self.host.new_stream(peer_id, [ECHO_PROTOCOL])
        await stream.write(payload)
        await stream.close_write()
        with trio.fail_after(20):
            data = await read_to_end(stream, MAX_ECHO_BYTES)
        results[index] = data == payload

    async def run_connections(self, address, count):
        info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        started = time.perf_counter()
        for _ in range(count):
            await self.host.connect(info)
            await self.host.disconnect(info.peer_id)
        emit("connections", count=count, seconds=round(time.perf_counter() - started, 6))
        emit("done")

    async def run_dial(self, address):
        if self.args.connect_count > 0:
            await self.run_connections(address, self.args.connect_count)
            return
        info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        await self.host.connect(info)
        await self.identify(info.peer_id)
        if self.args.ping_count > 0:
            await self.ping(info.peer_id, self.args.ping_count)
        if self.args.echo_streams > 0:
            results = {}
            async with trio.open_nursery() as nursery:
                for index in range(self.args.echo_streams):
                    nursery.start_soon(self.echo_stream, info.peer_id, index, self.args.echo_bytes, results)
            emit("echo", streams=len(results), matched=sum(1 for ok in results.values() if ok))
        if self.args.perf_upload > 0 or self.args.perf_download > 0:
            await self.run_perf(address)
        emit("done")

    async def run_perf(self, address):
        started = time.perf_counter()
        final = None
        async for output in self.perf.measure_performance(
            multiaddr.Multiaddr(address), self.args.perf_upload, self.args.perf_download
        ):
            if output["type"] == "final":
                final = output
        seconds = time.perf_counter() - started
        emit(
            "perf",
            upload_bytes=final["upload_bytes"] if final else 0,
            download_bytes=final["download_bytes"] if final else 0,
            seconds=round(seconds, 6),
        )

    def on_connected(self, conn):
        peer_id = conn.muxed_conn.peer_id
        emit("connected", peer_id=str(peer_id), direction="outbound" if conn.muxed_conn.is_initiator_value else "inbound")
        if not self.args.dial and peer_id not in self.identified and self.nursery is not None:
            self.identified.add(peer_id)
            self.nursery.start_soon(self.identify, peer_id)

    async def main(self):
        listen = [multiaddr.Multiaddr(self.args.listen)]
        async with self.host.run(listen_addrs=listen):
            self.host.get_network().register_notifee(Notifee(self))
            await self.perf.start()
            emit("listening", peer_id=str(self.host.get_id()), addrs=[str(a) for a in self.host.get_addrs()])
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                nursery.start_soon(self.watch_signals, nursery.cancel_scope)
                with trio.move_on_after(self.args.duration):
                    if self.args.dial:
                        try:
                            await self.run_dial(self.args.dial)
                        except Exception as exc:
                            emit("error", op="dial", error=repr(exc))
                    else:
                        await trio.sleep_forever()
                nursery.cancel_scope.cancel()
        emit("exit")

    async def watch_signals(self, scope):
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                scope.cancel()
                return


class Notifee(INotifee):
    def __init__(self, peer):
        self.peer = peer

    async def connected(self, network, conn):
        self.peer.on_connected(conn)

    async def disconnected(self, network, conn):
        emit("disconnected", peer_id=str(conn.muxed_conn.peer_id))

    async def opened_stream(self, network, stream):
        pass

    async def closed_stream(self, network, stream):
        pass

    async def listen(self, network, maddr):
        pass

    async def listen_close(self, network, maddr):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="/ip4/127.0.0.1/tcp/0")
    parser.add_argument("--dial")
    parser.add_argument("--ping-count", type=int, default=3)
    parser.add_argument("--echo-streams", type=int, default=0)
    parser.add_argument("--echo-bytes", type=int, default=4096)
    parser.add_argument("--perf-upload", type=int, default=0)
    parser.add_argument("--perf-download", type=int, default=0)
    parser.add_argument("--connect-count", type=int, default=0)
    parser.add_argument("--duration", type=float, default=60)
    # A parent may start us with these signals blocked (the mask is inherited); we want to see them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    trio.run(Peer(parser.parse_args()).main)


if __name__ == "__main__":
    sys.exit(main())
