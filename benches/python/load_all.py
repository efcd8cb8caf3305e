"""The official Python client's load_all, timed, for benches/client.rs.

Usage: python load_all.py
Environment: BRAINSTEM_URL, BRAINSTEM_TOKEN (the stand-in server's).
Prints: "<records> <seconds>", the seconds spent in load_all alone
(the interpreter's start and the client's construction are not counted).
"""

import os
import time

from brainstem_api_tools import BrainstemClient


def main():
    client = BrainstemClient(token=os.environ["BRAINSTEM_TOKEN"], url=os.environ["BRAINSTEM_URL"])
    start = time.perf_counter()
    got = client.load("session", load_all=True)
    took = time.perf_counter() - start
    print(len(got["sessions"]), took)


if __name__ == "__main__":
    main()
