"""The systems compared, behind one interface: index(passages), then search(query) -> ids.

All systems get the same passages and the same embedding model (USE multilingual
v3, from Commune's package), with embeddings computed once and shared, so the
comparison is about retrieval, not about who embeds faster.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Vectors:
    """The shared embedding cache: every system embeds through it."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.cache: dict[tuple[str, str], np.ndarray] = {}

    def passages(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if ("p", t) not in self.cache]
        if todo:
            for t, v in zip(todo, self.embedder.embed_passages(todo), strict=True):
                self.cache[("p", t)] = v
        return np.vstack([self.cache[("p", t)] for t in texts])

    def query(self, text: str) -> np.ndarray:
        if ("q", text) not in self.cache:
            self.cache[("q", text)] = self.embedder.embed_queries([text])[0]
        return self.cache[("q", text)]


class Commune:
    """Commune's own retrieval layer: analysis, bm25s, exact dense matrix, weighted RRF."""

    def __init__(self, vectors: Vectors, mode: str = "hybrid", **settings: Any) -> None:
        from commune.config import RetrievalSettings

        self.vectors, self.mode = vectors, mode
        self.settings = RetrievalSettings(**settings)
        self.name = f"commune-{mode}" + "".join(f"-{k}{v}" for k, v in settings.items())

    def index(self, passages: list[dict]) -> None:
        from commune.index.dense import MatrixIndex
        from commune.index.lexical import Bm25Index
        from commune.text.analysis import analyze

        self.ids = [p["id"] for p in passages]
        self.lexical = Bm25Index.build([analyze(p["text"], p["lang"]) for p in passages])
        self.dense = MatrixIndex.build(self.vectors.passages([p["text"] for p in passages]))

    def search(self, text: str, k: int) -> list[str]:
        from commune.answering.retrieve import fuse
        from commune.text.analysis import query_term_sets
        from commune.text.lang import detect

        lang = detect(text)
        sets = query_term_sets(text, [lang] + [x for x in ("fr", "en") if x != lang])
        terms = list(dict.fromkeys(t for ts in sets.values() for t in ts))
        n = max(self.settings.candidates, k)
        lex = self.lexical.search(terms, n, None)[0] if self.mode != "dense" else np.array([], int)
        dense = (
            self.dense.search(self.vectors.query(text), n, None)[0]
            if self.mode != "lexical"
            else np.array([], int)
        )
        rows = [row for row, *_ in fuse(lex, dense, self.settings)][:k]
        return [self.ids[r] for r in rows]


class PlainBM25:
    """bm25s with its own default tokenizer (lowercase, English stopwords, no stemming)."""

    name = "bm25s"

    def index(self, passages: list[dict]) -> None:
        import bm25s

        self.ids = [p["id"] for p in passages]
        self.model = bm25s.BM25()
        self.model.index(
            bm25s.tokenize([p["text"] for p in passages], stopwords="en", show_progress=False),
            show_progress=False,
        )

    def search(self, text: str, k: int) -> list[str]:
        import bm25s

        tokens = bm25s.tokenize([text], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        docs, _ = self.model.retrieve(tokens, k=min(k, len(self.ids)), show_progress=False)
        return [self.ids[i] for i in docs[0]]


class LlamaIndexDefault:
    """LlamaIndex's default pipeline: Documents into a VectorStoreIndex, same embedding model."""

    name = "llamaindex-vector"

    def __init__(self, vectors: Vectors) -> None:
        self.vectors = vectors

    def index(self, passages: list[dict]) -> None:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.embeddings import BaseEmbedding

        vectors = self.vectors

        class Use(BaseEmbedding):  # the same model as Commune, through the shared cache
            def _get_query_embedding(self, query: str) -> list[float]:
                return vectors.query(query).tolist()

            def _get_text_embedding(self, text: str) -> list[float]:
                return vectors.passages([text])[0].tolist()

            def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
                return vectors.passages(texts).tolist()

            async def _aget_query_embedding(self, query: str) -> list[float]:
                return self._get_query_embedding(query)

        docs = [Document(text=p["text"], doc_id=p["id"]) for p in passages]
        self.retriever = VectorStoreIndex.from_documents(
            docs, embed_model=Use(model_name="use-multilingual-v3")
        ).as_retriever

    def search(self, text: str, k: int) -> list[str]:
        out: list[str] = []
        for node in self.retriever(similarity_top_k=k).retrieve(text):
            if node.node.ref_doc_id not in out:
                out.append(node.node.ref_doc_id)
        return out


class LangChainEnsemble:
    """LangChain's usual hybrid: FAISS + BM25Retriever in an EnsembleRetriever (0.5/0.5)."""

    name = "langchain-faiss+bm25"

    def __init__(self, vectors: Vectors) -> None:
        self.vectors = vectors

    def index(self, passages: list[dict]) -> None:
        from langchain_community.retrievers import BM25Retriever
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_core.embeddings import Embeddings

        try:
            from langchain_classic.retrievers import EnsembleRetriever
        except ImportError:
            from langchain.retrievers import EnsembleRetriever

        vectors = self.vectors

        class Use(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return vectors.passages(texts).tolist()

            def embed_query(self, text: str) -> list[float]:
                return vectors.query(text).tolist()

        docs = [Document(page_content=p["text"], metadata={"id": p["id"]}) for p in passages]
        self.faiss = FAISS.from_documents(docs, Use())
        self.bm25 = BM25Retriever.from_documents(docs)
        self.make = lambda k: EnsembleRetriever(
            retrievers=[self.bm25, self.faiss.as_retriever(search_kwargs={"k": k})],
            weights=[0.5, 0.5],
        )

    def search(self, text: str, k: int) -> list[str]:
        self.bm25.k = k
        out: list[str] = []
        for d in self.make(k).invoke(text):
            if d.metadata["id"] not in out:
                out.append(d.metadata["id"])
        return out[:k]
