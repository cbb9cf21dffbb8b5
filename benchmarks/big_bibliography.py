"""A large `.bib` shaped like the ACL Anthology's `anthology+abstracts.bib`, generated, never downloaded.

    python -m benchmarks.big_bibliography N OUT.bib [--seed S]

Entries are `@inproceedings`/`@article` with quoted values, bare month macros (`month = jul`), braces
protecting capitals (`{BERT}`), LaTeX accents in names (`M{\\"u}ller`), page ranges with `--`, DOIs
and URLs; some carry an abstract (the synthetic abstracts of `benchmarks.synthetic`). At
100,000 entries the file is about 77 MB, the size of the Anthology's.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Iterator
from pathlib import Path

from benchmarks import synthetic

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_VENUES = [
    ("Proceedings of the {A}nnual {M}eeting of the {A}ssociation for {C}omputational {L}inguistics", "acl"),
    (
        "Proceedings of the {C}onference on {E}mpirical {M}ethods in {N}atural {L}anguage {P}rocessing",
        "emnlp",
    ),
    ("Findings of the {A}ssociation for {C}omputational {L}inguistics: {NAACL}", "findings"),
    ("Proceedings of the {W}orkshop on {N}eural {G}eneration and {T}ranslation", "ngt"),
]
# The share of entries with an abstract that makes 100,000 entries about 77 MB, the Anthology's size.
ABSTRACT_SHARE = 0.2
# Names with the accents the Anthology writes in LaTeX.
_GIVEN = ["Jos{\\'e}", "Ren{\\'e}e", 'J{\\"o}rg', "Fran{\\c{c}}ois", "Zhang", "Ana", "Wei", "Priya"]
_FAMILY = ['M{\\"u}ller', "Garc{\\'\\i}a", "Nov{\\'a}k", "Smith", "Chen", "{\\O}stergaard", "Sato", "Kim"]
# Capitals titles protect with braces, as the Anthology does.
_PROTECTED = ["{BERT}", "{GPT}", "{LSTM}", "{E}nglish", "{C}hinese", "{W}ikipedia", "{NLP}"]


def entries(count: int, seed: int = 5) -> Iterator[str]:
    """`count` BibTeX entries, each with a unique key."""
    rng = random.Random(seed)
    for number, record in enumerate(synthetic.records(count, seed=seed)):
        year = 2000 + number % 25
        venue, short = rng.choice(_VENUES)
        surname = rng.choice(_FAMILY)
        authors = [f"{rng.choice(_FAMILY)}, {rng.choice(_GIVEN)}" for _ in range(rng.randint(1, 6))]
        # (the synthetic text's stray braces would make entries no BibTeX tool reads)
        words = re.sub(r"[{}]", "", str(record["title"])).split()
        if len(words) > 3:
            words.insert(rng.randrange(len(words)), rng.choice(_PROTECTED))
        title = " ".join(words).replace('"', "''")
        key = f"{surname.strip('{}').split('}')[-1].lower()}-etal-{year}-{short}-{number}"
        fields = [
            ("title", f'"{title}"'),
            ("author", '"' + "  and\n      ".join(authors) + '"'),
            ("booktitle" if short != "findings" else "journal", f'"{venue}"'),
            ("month", rng.choice(_MONTHS)),
            ("year", f'"{year}"'),
            ("address", '"Online"'),
            ("publisher", '"Association for Computational Linguistics"'),
            ("url", f'"https://aclanthology.org/{year}.{short}-main.{number}"'),
            ("doi", f'"10.18653/v1/{year}.{short}-main.{number}"'),
            ("pages", f'"{1 + number % 400}--{12 + number % 400}"'),
        ]
        if rng.random() < ABSTRACT_SHARE:
            abstract = re.sub(r"[{}]", "", str(record["abstract"])).replace('"', "''").replace("%", "\\%")
            fields.append(("abstract", f'"{abstract}"'))
        body = ",\n".join(f"    {name} = {value}" for name, value in fields)
        kind = "article" if short == "findings" else "inproceedings"
        yield f"@{kind}{{{key},\n{body},\n}}\n"


def write(path: Path, count: int, seed: int = 5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for entry in entries(count, seed):
            out.write(entry)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    write(args.out, args.count, args.seed)


if __name__ == "__main__":
    main()
