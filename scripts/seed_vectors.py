"""Make core/data/seeds/vectors.npz: the vectors of the seed corpus, shipped so that a fresh home
has them without running the model. Run it again whenever the seeds or the model change:

    python scripts/seed_vectors.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.embedding import Encoder, model_id, paper_text, text_digest
from core.library import SEED_VECTORS, Library


async def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        library = await Library.open(Path(scratch), semantic=False)
        try:
            texts = {
                text_digest(paper_text(paper)): paper_text(paper)
                async for batch in library.store.iter_papers()
                for paper in batch
            }
        finally:
            await library.close()
    digests = sorted(texts)
    vectors = Encoder().encode([texts[d] for d in digests]).astype(np.float16)
    target = Path(__file__).resolve().parents[1] / "core" / "data" / "seeds" / SEED_VECTORS
    np.savez_compressed(target, digests=np.array(digests), vectors=vectors, model=np.array(model_id()))
    print(f"{target.name}: {len(digests)} vectors, {target.stat().st_size} bytes")


if __name__ == "__main__":
    asyncio.run(main())
