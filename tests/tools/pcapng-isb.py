#!/usr/bin/python3
"""Prints the interface statistics blocks of a pcapng file as JSON lines.

The suite checks what alertcapd writes with readers that are not its own:
tshark and capinfos for the section and interface blocks, this for the
statistics block, whose counters neither prints. Options per the pcapng
draft: isb_starttime (2), isb_endtime (3), isb_ifrecv (4), isb_ifdrop (5),
isb_osdrop (7).
"""
import json
import struct
import sys

NAMES = {2: "starttime", 3: "endtime", 4: "ifrecv", 5: "ifdrop", 7: "osdrop"}


def blocks(data):
    """Yields (type, body) of each block, in the section's byte order."""
    if len(data) < 12 or struct.unpack("<I", data[:4])[0] != 0x0A0D0D0A:
        sys.exit("not pcapng")
    order = "<" if struct.unpack("<I", data[8:12])[0] == 0x1A2B3C4D else ">"
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack(order + "II", data[off:off + 8])
        if blen < 12 or off + blen > len(data):
            sys.exit("block at %d is cut short" % off)
        yield order, btype, data[off + 8:off + blen - 4]
        off += blen


def isb(order, body):
    """The counters of one statistics block, times in nanoseconds."""
    out = {}
    at = 12  # interface id, timestamp high and low
    while at + 4 <= len(body):
        code, olen = struct.unpack(order + "HH", body[at:at + 4])
        if code == 0:
            break
        value = body[at + 4:at + 4 + olen]
        if code in (2, 3):
            high, low = struct.unpack(order + "II", value)
            out[NAMES[code]] = (high << 32) | low
        elif code in NAMES:
            out[NAMES[code]] = struct.unpack(order + "Q", value)[0]
        at += 4 + ((olen + 3) & ~3)
    return out


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    for order, btype, body in blocks(data):
        if btype == 5:
            print(json.dumps(isb(order, body), sort_keys=True))


main()
