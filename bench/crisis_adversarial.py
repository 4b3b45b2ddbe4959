"""The crisis detector's worst case on adversarial input: how long one message can hold it.

    .venv/bin/python -m bench.crisis_adversarial              # at 1,000, 1,600 and MAX_CHARS
    .venv/bin/python -m bench.crisis_adversarial --sizes 1600

The detector runs on the Rasa server's event loop, so every conversation waits while it reads
one message. Each input below is built to make some stage work hard (spelling correction, the
rule windows, clauses, normalisation) and is cut to each size: the web chat's and REST's limit
(1,000 characters), SMS's (1,600) and the most the detector reads (crisis.detector.MAX_CHARS).
Prints the best of three runs per input (warm caches, as on a running server) and the worst
input per size. Target: under 5 ms per message at the channels' limits.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from typing import Callable

from crisis.detector import MAX_CHARS, detect

TARGET_MS = 5.0


def _repeat(piece: str) -> Callable[[int], str]:
    return lambda size: (piece * (size // len(piece) + 1))[:size]


def _random(alphabet: str, word: tuple[int, int] | None = None) -> Callable[[int], str]:
    def make(size: int) -> str:
        rng = random.Random(size)
        if word is None:
            return "".join(rng.choice(alphabet) for _ in range(size))
        words = []
        while sum(map(len, words)) + len(words) < size:
            words.append("".join(rng.choice(alphabet) for _ in range(rng.randint(*word))))
        return " ".join(words)[:size]

    return make


INPUTS: dict[str, Callable[[int], str]] = {
    "one long word": _random(string.ascii_lowercase),
    "one repeated letter": _repeat("a"),
    "many 12-letter words": _repeat("abcdefghijkl "),
    "many random 6-13 letter words": _random(string.ascii_lowercase, (6, 13)),
    "risk phrase repeated": _repeat("kill myself "),
    "risk phrase, no spaces": _repeat("killmyself"),
    "risk words mixed": _repeat("i want to die tonight i have pills not suicidal jk "),
    "mixed scripts and emoji": _random("аеоpсхуΑΒΓ日本語ａｂｃ😀k1ll$u!c "),
    "leetspeak run": _repeat("k1ll.m.y.s.e.l.f!"),
    "spaced letters": _repeat("k i l l "),
    "punctuation only": _repeat("."),
    "digits only": _repeat("1"),
    "numbers": _repeat("100 "),
    "line breaks": _repeat("die\n"),
    "means emoji": _repeat("🔫💊"),
}


def best_ms(text: str, runs: int = 3) -> float:
    detect(text)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        detect(text)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 1600, MAX_CHARS])
    args = parser.parse_args(argv)
    detect("warm up")
    print(f"{'input':32}" + "".join(f"{size:>10,}" for size in args.sizes) + "  (ms)")
    worst = {size: ("", 0.0) for size in args.sizes}
    for name, make in INPUTS.items():
        row = []
        for size in args.sizes:
            ms = best_ms(make(size))
            row.append(ms)
            if ms > worst[size][1]:
                worst[size] = (name, ms)
        print(f"{name:32}" + "".join(f"{ms:>10.2f}" for ms in row))
    print()
    for size, (name, ms) in worst.items():
        verdict = "meets" if ms < TARGET_MS else "misses"
        print(
            f"worst at {size:>5,} characters: {ms:6.2f} ms ({name}); {verdict} the "
            f"{TARGET_MS:.0f} ms target"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
