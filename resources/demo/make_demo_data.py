"""Generate the bundled demo datasets (CC0) from templates, slots and paraphrases with a fixed seed.

Run from anywhere:  python resources/demo/make_demo_data.py
It rewrites ``support_tickets.csv`` and ``instructions.jsonl`` next to this file; the output is byte-identical
on every run (seeded ``random.Random``, no other source of randomness, standard library only). The hand-written
slots, templates and pairs are in ``demo_tables.py`` beside it; this file holds only how they are combined.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import random
from pathlib import Path
from types import ModuleType

SEED = 20260601
HERE = Path(__file__).resolve().parent
N_TICKETS = 1200
AMBIGUOUS_FRACTION = 0.09
NOISE_FRACTION = 0.03


def _load_tables() -> ModuleType:
    """``demo_tables.py`` from this folder (this script is run as a file, not imported from a package)."""
    spec = importlib.util.spec_from_file_location("demo_tables", HERE / "demo_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_TABLES = _load_tables()
SLOTS = _TABLES.SLOTS
TEMPLATES = _TABLES.TEMPLATES
OPENERS = _TABLES.OPENERS
CLOSERS = _TABLES.CLOSERS
BRIDGES = _TABLES.BRIDGES
PROPER_STARTS = _TABLES.PROPER_STARTS
SUPPORT_REPLIES = _TABLES.SUPPORT_REPLIES
DEFINITIONS = _TABLES.DEFINITIONS
REWRITE_SENTENCES = _TABLES.REWRITE_SENTENCES
POLITE = _TABLES.POLITE


def _fill(template: str, rng: random.Random) -> str:
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        key = out[start + 1:end]
        out = out[:start] + rng.choice(SLOTS[key]) + out[end + 1:]
    return out


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the sentence starts with a name, an acronym or 'I'."""
    if text.startswith(PROPER_STARTS) or text[:1].islower():
        return text
    return text[0].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[0].upper() + text[1:] if not text.startswith("iPhone") else text


def _style(text: str, rng: random.Random) -> str:
    opener = rng.choice(OPENERS)
    text = opener + _lower_first(text) if opener else text
    text = _upper_first(text)
    closer = rng.choice(CLOSERS)
    if text.endswith("?"):  # a question keeps its mark; only worded closers follow it
        closer = "" if closer.strip(".!") == "" else " " + closer.lstrip(". ")
    text = text + closer
    roll = rng.random()
    if roll < 0.06:
        text = text.lower()
    elif roll < 0.09:
        text = text.replace(" you ", " u ").replace("please", "pls").replace("Please", "Pls")
    return text


def make_tickets(rng: random.Random) -> list[tuple[str, str]]:
    """Return ``N_TICKETS`` unique (text, label) rows: clean, ambiguous and noisy ones, shuffled."""
    labels = sorted(TEMPLATES)
    n_ambiguous = round(N_TICKETS * AMBIGUOUS_FRACTION)
    n_noise = round(N_TICKETS * NOISE_FRACTION)
    seen: set[str] = set()
    rows: list[tuple[str, str]] = []

    def add(text: str, label: str) -> bool:
        key = text.lower()
        if key in seen:
            return False
        seen.add(key)
        rows.append((text, label))
        return True

    while len(rows) < n_ambiguous:
        first, second = rng.sample(labels, 2)
        a = _fill(rng.choice(TEMPLATES[first]), rng)
        b = _fill(rng.choice(TEMPLATES[second]), rng)
        b = _lower_first(b)
        text = _style(a.rstrip("?!.") + rng.choice(BRIDGES) + b, rng)
        add(text, rng.choice((first, second)))  # fits both classes; labelled with one of them
    n_clean = N_TICKETS - n_ambiguous
    per_label = n_clean // len(labels)
    for i, label in enumerate(labels):
        target = per_label + (1 if i < n_clean % len(labels) else 0)
        made = 0
        while made < target:
            if add(_style(_fill(rng.choice(TEMPLATES[label]), rng), rng), label):
                made += 1
    rng.shuffle(rows)
    for idx in rng.sample(range(len(rows)), n_noise):  # label noise: a wrong label on a clear ticket
        text, label = rows[idx]
        rows[idx] = (text, rng.choice([other for other in labels if other != label]))
    return rows


def _support_pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for label, reply in SUPPORT_REPLIES.items():
        for template in TEMPLATES[label][:10]:
            ticket = _style(_fill(template, rng), rng)
            pairs.append((f"Reply to this customer message: {ticket}", reply))
    for label in SUPPORT_REPLIES:
        for template in TEMPLATES[label][10:16]:
            ticket = _fill(template, rng)
            pairs.append((f"Which team should handle this ticket: {ticket}?", f"The {label} team."))
    return pairs


def _arithmetic_pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(30):
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        pairs.append((rng.choice(["What is {a} + {b}?", "Add {a} and {b}.", "Compute {a} plus {b}."]).format(a=a, b=b),
                      f"{a} + {b} = {a + b}"))
    for _ in range(25):
        a, b = sorted((rng.randint(2, 150), rng.randint(2, 150)), reverse=True)
        pairs.append((rng.choice(["What is {a} - {b}?", "Subtract {b} from {a}."]).format(a=a, b=b),
                      f"{a} - {b} = {a - b}"))
    for _ in range(25):
        a, b = rng.randint(2, 12), rng.randint(2, 25)
        pairs.append((rng.choice(["What is {a} times {b}?", "Multiply {a} by {b}."]).format(a=a, b=b),
                      f"{a} * {b} = {a * b}"))
    for _ in range(15):
        b, q = rng.randint(2, 12), rng.randint(2, 15)
        pairs.append((f"What is {b * q} divided by {b}?", f"{b * q} / {b} = {q}"))
    for _ in range(10):
        price, pct = rng.choice([20, 40, 50, 80, 120, 200, 60, 90]), rng.choice([10, 25, 50, 20])
        off = price * pct // 100
        pairs.append((f"An item costs ${price}. What does it cost with a {pct}% discount?",
                      f"{pct}% of ${price} is ${off}, so it costs ${price - off}."))
    return pairs


def _definition_pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for term, meaning in DEFINITIONS:
        ask = rng.choice(["Define {t}.", "What is {t}?", "Explain {t} in one sentence."]).format(t=term)
        article_free = term.split(" ", 1)[1] if term.startswith(("a ", "an ")) else term
        answer = f"{term[0].upper() + term[1:]} is {meaning}."
        pairs.append((ask, answer))
        pairs.append((f"In simple words, what does '{article_free}' mean?", f"It means {meaning}."))
    return pairs


def _rewrite_pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for sentence in REWRITE_SENTENCES:
        pairs.append((f"Rewrite politely: {sentence}", POLITE[sentence]))
        pairs.append((f"Convert to upper case: {sentence}", sentence.upper()))
        words = sentence.split()
        pairs.append((f"Reverse the order of the words: {sentence}", " ".join(reversed(words))))
        pairs.append((f"How many words are in: '{sentence}'?", f"There are {len(words)} words."))
    for _ in range(10):
        words = rng.sample(["apple", "river", "cloud", "stone", "paper", "orange", "tiger", "lemon", "music", "bread",
                            "chair", "window", "garden", "pencil"], 4)
        pairs.append((f"Sort these words alphabetically: {', '.join(words)}", ", ".join(sorted(words))))
    return pairs


def make_instructions(rng: random.Random) -> list[dict[str, str]]:
    """Return short prompt/response pairs: support replies, arithmetic, definitions and rewriting."""
    pairs = _support_pairs(rng) + _arithmetic_pairs(rng) + _definition_pairs(rng) + _rewrite_pairs(rng)
    seen: set[str] = set()
    unique = []
    for prompt, response in pairs:
        if prompt not in seen:
            seen.add(prompt)
            unique.append({"prompt": prompt, "response": response})
    rng.shuffle(unique)
    return unique


def render(seed: int = SEED) -> dict[str, str]:
    """The text of both files, by file name (what :func:`main` writes)."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(make_tickets(rng))
    lines = [json.dumps(pair, ensure_ascii=False) for pair in make_instructions(rng)]
    return {"support_tickets.csv": buffer.getvalue(), "instructions.jsonl": "\n".join(lines) + "\n"}


def main() -> None:
    """Write both files next to this script."""
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8", newline="\n")


if __name__ == "__main__":
    main()
