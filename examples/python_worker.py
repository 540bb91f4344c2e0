#!/usr/bin/env python3
"""A handoff worker in Python (pyzmq + msgpack), written from proto/handoff-protocol.md alone.

It registers for a service (default "enrich"), heartbeats, reconnects when the broker goes
silent or says DISCONNECT, and answers each REQUEST with proper envelopes:

  * every input envelope -> one output envelope of --out-type (default "lead.enriched"),
    same event id, payload = the input payload plus an "enrichment" map (email domain,
    free-mail flag, company size band);
  * every body frame or batch element it cannot read -> a "quarantine" envelope (section 8.3:
    code bad_frame / bad_envelope / unknown_version, field frame[F][E].<path>, the raw bytes
    in base64), so nothing is lost;
  * outputs are grouped one batch frame per type (section 7), encoded canonically (6.2).

Insert it into the pipeline with two lines of routes: in handoff.yaml, e.g.
    lead.raw: enrich          # instead of ingest
    lead.enriched: ingest

Run:  python3 examples/python_worker.py --connect tcp://127.0.0.1:5570 [--service enrich]
      python3 examples/python_worker.py --selftest proto/vectors   (codec against the vectors)
"""
import argparse
import base64
import binascii
import json
import os
import re
import signal
import socket
import sys
import time

import msgpack
import zmq

MDPW = b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT, DISCONNECT = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"

SCHEMA_VERSION = 1
MAX_BODY = 16 * 1024 * 1024
MAX_DEPTH = 24
TYPE_RE = re.compile(r"^[a-z0-9._-]{1,63}$")
ID_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
ENVELOPE_KEYS = ("v", "type", "id", "ts", "origin", "payload")
FREE_MAIL = {"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com",
             "gmx.de", "gmx.net", "web.de", "icloud.com", "aol.com", "proton.me"}


# ------------------------------------------------------------------ codec (sections 6-7)

class EnvelopeError(Exception):
    """A refused envelope: code is the name of section 8.1, field the dotted path."""

    def __init__(self, code, field, message):
        super().__init__(message)
        self.code, self.field = code, field


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise EnvelopeError("bad field", str(key), "%s: duplicate map key" % key)
        out[key] = value
    return out


def _check_value(value, path, depth):
    """Payload values: nil, bool, int64, float, str, array, map with str keys (6.1)."""
    if depth > MAX_DEPTH:
        raise EnvelopeError("too large", path, "%s: nested deeper than %d levels" % (path, MAX_DEPTH))
    if value is None or isinstance(value, (bool, float, str)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            raise EnvelopeError("bad field", path, "%s: NaN or infinite number" % path)
        return
    if isinstance(value, int):
        if not -(2 ** 63) <= value < 2 ** 63:
            raise EnvelopeError("bad field", path, "%s: integer out of range" % path)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, "%s[%d]" % (path, i), depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or "\x00" in key:
                raise EnvelopeError("bad field", path, "%s: map key is not a string" % path)
            _check_value(item, "%s.%s" % (path, key) if path else key, depth + 1)
        return
    raise EnvelopeError("bad field", path, "%s: binary and ext values are not allowed" % path)


def check_envelope(env):
    """Validate a decoded map as an envelope (6.1); returns it or raises EnvelopeError."""
    if not isinstance(env, dict):
        raise EnvelopeError("malformed", "", "envelope is not a msgpack map")
    for key in env:
        if not isinstance(key, str):
            raise EnvelopeError("bad field", "", "envelope key is not a string")
    v = env.get("v")  # the version first, whatever else is wrong (6.4)
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0 and v != SCHEMA_VERSION:
        raise EnvelopeError("version", "v", "v: unsupported schema version %d (this worker speaks %d)"
                            % (v, SCHEMA_VERSION))
    if "v" not in env:
        raise EnvelopeError("missing", "v", "v: missing schema version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise EnvelopeError("bad field", "v", "v: expected a positive integer")
    for name, pattern in (("type", TYPE_RE), ("id", ID_RE)):
        if name not in env:
            raise EnvelopeError("missing", name, "%s: missing" % name)
        if not isinstance(env[name], str) or not pattern.match(env[name]):
            raise EnvelopeError("bad field", name, "%s: invalid" % name)
    ts = env.get("ts")
    if "ts" not in env:
        raise EnvelopeError("missing", "ts", "ts: missing timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool) or not 0 <= ts < 2 ** 63:
        raise EnvelopeError("bad field", "ts", "ts: expected milliseconds since the epoch")
    origin = env.get("origin", "")
    if not isinstance(origin, str):
        raise EnvelopeError("bad field", "origin", "origin: expected a string")
    if len(origin.encode()) > 256:
        raise EnvelopeError("too large", "origin", "origin: longer than 256 bytes")
    if "payload" not in env:
        raise EnvelopeError("missing", "payload", "payload: missing")
    if not isinstance(env["payload"], dict):
        raise EnvelopeError("bad field", "payload", "payload: expected a map")
    _check_value(env["payload"], "payload", 0)
    for key, value in env.items():
        if key not in ENVELOPE_KEYS:
            _check_value(value, key, 1)
    out = {"v": v, "type": env["type"], "id": env["id"], "ts": ts, "origin": origin,
           "payload": env["payload"]}
    for key, value in env.items():  # unknown fields kept, in order, after payload (6.4)
        if key not in out:
            out[key] = value
    return out


def unpack_frame(frame):
    """Decode a body frame. Returns [(index, envelope or EnvelopeError)], or raises
    EnvelopeError when the frame itself cannot be read."""
    if len(frame) == 0:
        raise EnvelopeError("truncated", "", "empty body")
    if len(frame) > MAX_BODY:
        raise EnvelopeError("too large", "", "body of %d bytes exceeds the limit" % len(frame))
    try:
        root = msgpack.unpackb(frame, raw=False, strict_map_key=False, use_list=True,
                               object_pairs_hook=_no_duplicates)
    except EnvelopeError:
        raise
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError) as e:
        if isinstance(e, msgpack.ExtraData):
            raise EnvelopeError("malformed", "", "trailing bytes after the msgpack object")
        if isinstance(e, UnicodeDecodeError):
            # a str that is not UTF-8 refuses the element, not the frame: find out which
            return _per_element(frame)
        if isinstance(e, ValueError) and "Unpack failed: incomplete input" in str(e):
            raise EnvelopeError("truncated", "", "truncated msgpack")
        raise EnvelopeError("malformed", "", "not msgpack: %s" % e)
    except Exception as e:  # msgpack raises assorted errors for hostile input
        raise EnvelopeError("malformed", "", "not msgpack: %s" % e)
    if isinstance(root, list):
        items = list(enumerate(root))
    elif isinstance(root, dict):
        items = [(0, root)]
    else:
        raise EnvelopeError("malformed", "", "body is neither an envelope nor a batch")
    out = []
    for index, item in items:
        try:
            out.append((index, check_envelope(item)))
        except EnvelopeError as e:
            out.append((index, e))
    return out


def _per_element(frame):
    """Decode a batch element by element (bytes as raw) to pin an invalid string down."""
    unpacker = msgpack.Unpacker(raw=True, strict_map_key=False, object_pairs_hook=_no_duplicates)
    unpacker.feed(frame)
    try:
        root = unpacker.unpack()
    except Exception as e:
        raise EnvelopeError("malformed", "", "not msgpack: %s" % e)
    items = list(enumerate(root)) if isinstance(root, list) else [(0, root)]
    out = []
    for index, item in items:
        try:
            out.append((index, check_envelope(_text(item, ""))))
        except EnvelopeError as e:
            out.append((index, e))
    return out


def _text(value, path):
    """bytes -> str throughout, naming the first string that is not UTF-8."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise EnvelopeError("bad field", path, "%s: invalid UTF-8 in string" % path)
    if isinstance(value, list):
        return [_text(v, "%s[%d]" % (path, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = _text(k, path) if isinstance(k, bytes) else k
            out[key] = _text(v, "%s.%s" % (path, key) if path else str(key))
        return out
    return value


def pack_envelope(env):
    """Canonical form (6.2): key order v,type,id,ts,origin,payload,unknown; shortest ints and
    headers (msgpack-python's default); floats as float64; str never bin."""
    ordered = {k: env[k] for k in ENVELOPE_KEYS}
    for key, value in env.items():
        if key not in ordered:
            ordered[key] = value
    return ordered


def pack_batch(envs):
    return msgpack.packb([pack_envelope(e) for e in envs], use_bin_type=True,
                         use_single_float=False)


def pack_one(env):
    return msgpack.packb(pack_envelope(env), use_bin_type=True, use_single_float=False)


# ------------------------------------------------------------------ the work


def now_ms():
    return int(time.time() * 1000)


def enrich(env, out_type, origin):
    payload = dict(env["payload"])
    fields = payload.get("fields") if isinstance(payload.get("fields"), dict) else {}
    email = str(fields.get("email", payload.get("email", ""))).strip().lower()
    domain = email.rsplit("@", 1)[1] if "@" in email else ""
    employees = str(fields.get("employees", ""))
    digits = re.findall(r"\d+", employees)
    size = int(digits[-1]) if digits else None
    band = None if size is None else "smb" if size < 200 else "mid" if size < 1000 else "enterprise"
    payload["enrichment"] = {"domain": domain, "free_mail": domain in FREE_MAIL,
                             "size_band": band, "by": "python_worker"}
    return {"v": SCHEMA_VERSION, "type": out_type, "id": env["id"], "ts": now_ms(),
            "origin": origin, "payload": payload}


def quarantine(stage, code, field, reason, frame_index, element, raw_bytes, origin):
    raw = {"frame": frame_index}
    if element is not None:
        raw["element"] = element
    raw["bytes"] = len(raw_bytes)
    raw["base64"] = base64.b64encode(raw_bytes).decode()
    qid = "q-py-%s" % binascii.hexlify(
        (("%s|%s|%s|%s" % (stage, code, field, raw["base64"]))[:4096]).encode()).decode()[:32]
    return {"v": SCHEMA_VERSION, "type": "quarantine", "id": qid, "ts": now_ms(),
            "origin": origin,
            "payload": {"stage": stage, "code": code, "field": field, "reason": reason,
                        "event_id": "", "event_type": "invalid", "raw": raw}}


def element_bytes(frame, index):
    """The raw bytes of element `index` of a batch frame (the whole frame for a map)."""
    unpacker = msgpack.Unpacker(raw=True, strict_map_key=False)
    unpacker.feed(frame)
    try:
        n = unpacker.read_array_header()
    except Exception:
        return frame
    for i in range(n):
        start = unpacker.tell()
        unpacker.skip()
        if i == index:
            return frame[start:unpacker.tell()]
    return frame


def handle(frames, service, out_type, origin):
    """One REQUEST's body frames -> the REPLY's body frames (one batch frame per type)."""
    outputs = []
    for f_index, frame in enumerate(frames):
        try:
            items = unpack_frame(frame)
        except EnvelopeError as e:
            field = "frame[%d]%s" % (f_index, "." + e.field if e.field else "")
            outputs.append(quarantine(service, "bad_frame", field,
                                      "body frame %d: %s" % (f_index, e), f_index, None, frame,
                                      origin))
            continue
        is_batch = frame[:1] and (0x90 <= frame[0] <= 0x9f or frame[0] in (0xdc, 0xdd))
        for index, item in items:
            if isinstance(item, EnvelopeError):
                element = index if is_batch else None
                where = "frame[%d][%d]" % (f_index, index) if is_batch else "frame[%d]" % f_index
                field = where + ("." + item.field if item.field else "")
                code = "unknown_version" if item.code == "version" else "bad_envelope"
                raw = element_bytes(frame, index) if is_batch else frame
                outputs.append(quarantine(service, code, field, "%s: %s" % (where, item),
                                          f_index, element, raw, origin))
            else:
                outputs.append(enrich(item, out_type, origin))
    body, order = [], []
    for env in outputs:
        if env["type"] not in order:
            order.append(env["type"])
    for type_ in order:
        body.append(pack_batch([e for e in outputs if e["type"] == type_]))
    return body


# ------------------------------------------------------------------ the dialogue (sections 3-4)


class Worker:
    def __init__(self, args):
        self.args = args
        self.ctx = zmq.Context()
        self.sock = None
        self.hb = args.heartbeat_ms / 1000.0
        self.origin = "%s@%s:%d" % (args.service, socket.gethostname(), os.getpid())
        self.stop = False
        self.handled = 0
        self.record = open(args.record, "a") if args.record else None

    def log(self, text):
        sys.stderr.write("%s INFO  python_worker.%s: %s\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), self.args.service, text))
        sys.stderr.flush()

    def send(self, *frames):
        self.sock.send_multipart([b"", MDPW] + list(frames))
        self.sent = time.time()

    def connect(self):
        if self.sock is not None:
            self.sock.close(0)
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(self.args.connect)
        self.send(READY, self.args.service.encode(), str(self.args.credit).encode())
        self.heard = time.time()

    def run(self):
        self.connect()
        print("python worker ready service=%s endpoint=%s" % (self.args.service, self.args.connect),
              flush=True)
        while not self.stop:
            timeout = max(0.0, min(self.sent + self.hb, self.heard + self.hb * self.args.liveness)
                          - time.time())
            if self.sock.poll(int(min(timeout, 0.5) * 1000)):
                msg = self.sock.recv_multipart()
                self.heard = time.time()
                self.dispatch(msg)
            if time.time() - self.heard > self.hb * self.args.liveness:
                self.log("broker silent for %.1f s; reconnecting" % (time.time() - self.heard))
                self.connect()
            if time.time() - self.sent >= self.hb:
                self.send(HEARTBEAT)
        self.send(DISCONNECT)  # so the broker requeues at once instead of waiting (3.5)
        self.sock.close(linger=1000)
        self.ctx.term()
        self.log("stopped handled=%d" % self.handled)

    def dispatch(self, msg):
        if len(msg) < 3 or msg[0] != b"" or msg[1] != MDPW:
            self.log("protocol error: not an MDPW01 message (ignored)")
            return
        cmd = msg[2]
        if cmd == REQUEST:
            if len(msg) < 5 or msg[4] != b"":
                self.log("protocol error: REQUEST without token and delimiter")
                return
            token, frames = msg[3], msg[5:]
            body = handle(frames, self.args.service, self.args.out_type, self.origin)
            self.send(REPLY, token, b"", *body)
            self.handled += 1
            if self.record:
                for frame in frames:
                    try:
                        for _, env in unpack_frame(frame):
                            if isinstance(env, dict):
                                self.record.write(json.dumps({"id": env["id"], "type": env["type"]}) + "\n")
                    except EnvelopeError:
                        self.record.write(json.dumps({"bad_frame": len(frame)}) + "\n")
                self.record.flush()
        elif cmd == HEARTBEAT:
            pass
        elif cmd == DISCONNECT:
            self.log("broker sent DISCONNECT; registering again")
            self.connect()
        else:
            self.log("protocol error: unknown command %r" % cmd)


# ------------------------------------------------------------------ self test against vectors


def selftest(folder):
    """decode(hex) == json and encode(json) == hex for every vector (section 9)."""
    failures, count = [], 0

    def matches(want, got):
        if isinstance(want, list):
            return isinstance(got, list) and len(want) == len(got) and all(
                matches(w, g) for w, g in zip(want, got))
        if isinstance(want, dict) and "error" in want:
            return (isinstance(got, dict) and "error" in got
                    and got["error"]["code"] == want["error"]["code"]
                    and got["error"]["field"].startswith(want["error"]["field"]))
        return _same(want, got)

    for name in sorted(os.listdir(folder)):
        if not name.endswith(".hex"):
            continue
        count += 1
        with open(os.path.join(folder, name)) as f:
            frame = bytes.fromhex("".join(f.read().split()))
        with open(os.path.join(folder, name[:-4] + ".json")) as f:
            want = json.load(f)
        try:
            items = unpack_frame(frame)
            decoded = [{"error": {"code": e.code, "field": e.field}} if isinstance(e, EnvelopeError)
                       else e for _, e in items]
            got = decoded if isinstance(want, list) else decoded[0] if decoded else []
        except EnvelopeError as e:
            got = {"error": {"code": e.code, "field": e.field}}
        if not matches(want, got):
            failures.append("%s: decoded to %r" % (name, got))
            continue
        if not _has_error(want):
            again = pack_batch(want) if isinstance(want, list) else pack_one(want)
            if again != frame:
                failures.append("%s: encoding differs" % name)
    for f in failures:
        print("FAIL", f)
    print("selftest vectors=%d failures=%d" % (count, len(failures)))
    return 1 if failures or count == 0 else 0


def _same(a, b):
    """JSON equality that keeps int and float apart (1 != 1.0), like the vectors demand."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _has_error(v):
    if isinstance(v, dict):
        return "error" in v
    return any(isinstance(x, dict) and "error" in x for x in v)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connect", default="tcp://127.0.0.1:5570", help="broker endpoint")
    p.add_argument("--service", default="enrich", help="service to register for")
    p.add_argument("--out-type", default="lead.enriched", help="type of the output envelopes")
    p.add_argument("--credit", type=int, default=16, help="requests in flight (E4), 1..1000")
    p.add_argument("--heartbeat-ms", type=int, default=2500, help="broker.heartbeat_ms")
    p.add_argument("--liveness", type=int, default=3, help="broker.liveness")
    p.add_argument("--record", help="append {id, type} of every handled envelope to this file")
    p.add_argument("--selftest", metavar="VECTOR_DIR", help="check the codec against the vectors")
    args = p.parse_args()
    if args.selftest:
        return selftest(args.selftest)
    if not TYPE_RE.match(args.service) or args.service.startswith("mmi."):
        p.error("--service: 1-64 of a-z 0-9 . _ -, not mmi.*")
    worker = Worker(args)

    def on_signal(signum, frame):
        worker.stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
