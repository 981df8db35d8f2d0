"""Write qa_passages.jsonl: SQuAD-style extractive question answering about invented towns, shops and people.

Written for AdaLoRA Studio (CC0 1.0). Every passage is built from hand-written sentence templates and invented
slot values with a fixed seed, so running this again reproduces the file byte for byte:

    python resources/demo/make_qa_data.py

Each line is {"id", "context", "question", "answers": {"text": [...], "answer_start": [...]}}; every answer is
a substring of its context at answer_start. About a fifth of the passages are long (several paragraphs), so a
window of 128 tokens needs the doc stride to reach their answers.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 20261201
TOWNS = ["Brackenford", "Elmsworth", "Harrowgate Bay", "Lindquist", "Marrowdale", "Northaven", "Pellsbury",
         "Quillan", "Ravensmoor", "Saltmere", "Tollbridge", "Wickham Cross", "Yarrowby", "Ostrava Minor"]
PEOPLE = ["Ada Kellner", "Bruno Ostrowski", "Chioma Eze", "Dmitri Volkov", "Elena Marchetti", "Farid Haddad",
          "Greta Lindholm", "Hiro Tanaka", "Imani Brooks", "Jonas Berg", "Keiko Mori", "Luis Ortega",
          "Maya Patel", "Nils Andersen", "Olga Petrova", "Priya Raman", "Quentin Hale", "Rosa Delgado"]
TRADES = [("bakery", "rye bread"), ("bicycle workshop", "folding bicycles"), ("bookshop", "maps"),
          ("pottery", "blue glazed bowls"), ("tea house", "smoked black tea"), ("print shop", "posters"),
          ("clock maker", "pocket watches"), ("cheese dairy", "goat cheese"), ("boatyard", "rowing boats")]
RIVERS = ["the Amber", "the Wend", "the Coldwater", "the Sill", "the Harrow", "the Lune"]
YEARS = list(range(1851, 1999))
FILLER = [
    "The town holds a market every Saturday in the square by the old well.",
    "Visitors often walk along the towpath, where herons wait in the reeds.",
    "A narrow bridge of grey stone links the two halves of the high street.",
    "In winter the streets are quiet and most shops close before dusk.",
    "The library keeps a small collection of letters written by early settlers.",
    "Local children learn to swim in the shallow bend below the mill.",
    "A brass band plays on the green on the first Sunday of each month.",
    "The railway station was rebuilt after a storm damaged its roof.",
]


def _passage(rng: random.Random, long: bool) -> tuple[str, list[tuple[str, str]]]:
    town, founder, river = rng.choice(TOWNS), rng.choice(PEOPLE), rng.choice(RIVERS)
    trade, product = rng.choice(TRADES)
    owner = rng.choice([p for p in PEOPLE if p != founder])
    year, opened = rng.choice(YEARS), rng.randint(1960, 2024)
    people = rng.randint(2, 90) * 100 + rng.randint(0, 99)
    facts = [
        (f"{town} lies on the banks of {river}.", f"On which river does {town} lie?", river),
        (f"It was founded in {year} by {founder}.", f"Who founded {town}?", founder),
        (f"Today about {people} people live there.", f"How many people live in {town}?", str(people)),
        (f"The best known shop is a {trade} run by {owner}, opened in {opened}.",
         f"Who runs the {trade} in {town}?", owner),
        (f"It is famous for its {product}.", f"What is the {trade} in {town} famous for?", product),
    ]
    rng.shuffle(facts)
    sentences = [f[0] for f in facts]
    if long:
        for _ in range(rng.randint(6, 10)):
            sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(FILLER))
    else:
        sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(FILLER))
    qas = [(q, a) for _, q, a in facts]
    return " ".join(sentences), qas


def main() -> None:
    rng = random.Random(SEED)
    rows = []
    for i in range(120):
        context, qas = _passage(rng, long=i % 5 == 0)
        for j, (question, answer) in enumerate(rng.sample(qas, 3)):
            start = context.index(answer)
            rows.append({"id": f"demo-{i:03d}-{j}", "context": context, "question": question,
                         "answers": {"text": [answer], "answer_start": [start]}})
    out = Path(__file__).with_name("qa_passages.jsonl")
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} questions to {out}")


if __name__ == "__main__":
    main()
