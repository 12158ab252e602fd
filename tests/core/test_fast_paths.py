"""Fast paths of the core give exactly what the straightforward reference computations give.

Each speed-up of issue 12 that replaces an implementation is checked here against a reference written
the plain way, on real messages of the benchmark corpus (CFPB complaints, Bitext requests, non-English
held-out messages: regression inputs, not accuracy evidence).
"""

from __future__ import annotations

import itertools
import json
import math
import random

import numpy as np
import pytest

from handoff_core import features as features_module
from handoff_core.decision import KnowledgeMatch
from handoff_core.detectors import DetectorScore, bundled_detectors, length_share
from handoff_core.embeddings import StaticEmbedder, bundled_embedder
from handoff_core.engine import DecisionEngine
from handoff_core.examples import ExampleMatch, ExampleMatcher
from handoff_core.features import MessageFeatures, bundled_featurizer
from handoff_core.knowledge import KnowledgeBase, KnowledgeEntry
from handoff_core.policy import Policy
from handoff_core.text import normalize
from handoff_core.text.content import content_words
from handoff_core.text.stem import stem
from handoff_core.text.window import analysis_window
from handoff_core.topics import _asks_where, _has_specifics, _is_question, _Sentences

from .conftest import ROOT

CORPUS = ROOT / "bench" / "corpus" / "messages.jsonl"


@pytest.fixture(scope="module")
def features() -> list[MessageFeatures]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines[::3]]
    texts += ["I want to talk to a human", "can I speak to a real person please", "quiero hablar con una persona"]
    return bundled_featurizer().featurize_many(texts)


def _reference_score(features: MessageFeatures, head: str, evidence: int = 3) -> DetectorScore:
    """The detectors' scoring as first written: evidence sorted out eagerly for every head."""
    detectors = bundled_detectors()
    i = detectors.names.index(head)
    hashed = detectors._hashed
    contributions = hashed[features.buckets, i] * features.values
    dense = np.concatenate([features.embedding, features.style])
    logit = float(contributions.sum() + detectors._dense[i] @ dense + detectors._bias[i])
    # Round 7: a head may add a logit offset to long messages (the ramp's share of it, by length).
    logit += detectors.length_offsets[head] * length_share(len(features.text), *detectors.length_ramp)
    probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
    contributors: list[str] = []
    if evidence and len(contributions):
        k = min(len(contributions), evidence * 3)
        top = np.argpartition(-contributions, k - 1)[:k]
        for position in top[np.argsort(-contributions[top])].tolist():
            if contributions[position] <= 0 or len(contributors) >= evidence:
                break
            quoted = features.quote(position)
            if quoted and not any(quoted in c or c in quoted for c in contributors):
                contributors.append(quoted)
    return DetectorScore(head, round(probability, 4), detectors.thresholds[head], tuple(contributors))


def test_lazy_evidence_equals_eager_evidence(features: list[MessageFeatures]) -> None:
    """Every head's score and quoted n-grams, computed on first read, equal the eager reference."""
    detectors = bundled_detectors()
    compared = 0
    for f in features:
        for name, score in detectors.score_all(f).items():
            if score.probability >= 0.2:  # heads below EVIDENCE_FROM quote nothing, by design
                assert score == _reference_score(f, name), (f.text[:60], name)
                compared += bool(score.contributors)
            else:
                assert score.contributors == ()
    assert compared > 50  # many scores really carried evidence


def test_lazy_evidence_is_the_same_on_every_read(features: list[MessageFeatures]) -> None:
    """Reading the evidence twice gives the same tuple; equality and hashing follow the values."""
    score = bundled_detectors().score(features[-3], "human_request")
    first = score.contributors
    assert first and score.contributors is first
    again = bundled_detectors().score(features[-3], "human_request")
    assert again == score and hash(again) == hash(score)
    assert "contributors=" in repr(score)


def _reference_match(matcher: ExampleMatcher, f: MessageFeatures, threshold: float) -> ExampleMatch | None:
    found = matcher.best(f)
    return found if found is not None and found.score >= threshold else None


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.6, 0.7, 0.85])
def test_example_gate_never_changes_a_match(
    default_policy: Policy, features: list[MessageFeatures], threshold: float
) -> None:
    """The cheap upper bound only skips messages the exact nearest-example score would reject too."""
    matcher = ExampleMatcher({"human": default_policy.triggers.human_request.examples})
    matched = 0
    for f in features:
        exact = float(matcher.similarities(f).max())
        assert matcher.upper_bound(f) >= exact
        assert matcher.upper_bound(f, threshold) >= exact
        expected = _reference_match(matcher, f, threshold)
        assert matcher.match(f, threshold) == expected
        matched += expected is not None
    assert matched >= 3  # the three written requests for a person match at every threshold tried


def test_example_gate_with_several_labels(default_policy: Policy, features: list[MessageFeatures]) -> None:
    """With several labels (runner-up scores) the gated match equals the reference as well."""
    labels = {
        "human": list(default_policy.triggers.human_request.examples),
        "other": ["where is my order", "refund please"],
    }
    matcher = ExampleMatcher(labels)
    for f in features:
        assert matcher.match(f, 0.5) == _reference_match(matcher, f, 0.5)
    assert ExampleMatcher({}).match(features[0], 0.5) is None


def _reference_search(
    kb: KnowledgeBase, text: str, limit: int = 3, semantic_weight: float = 0.6
) -> list[KnowledgeMatch]:
    """Knowledge search as first written: recall summed per entry over every question word, the meaning
    blended per document in Python, every entry sorted."""
    content, lang = content_words(text)
    terms = [s for w in content for s in [stem(kb._vocabulary.correct(w) or w, lang)]]
    terms += [f"{a} {b}" for a, b in itertools.pairwise(terms)]
    query = kb._vector(terms)
    scores: dict[int, float] = {}
    for term, weight in query.items():
        for doc_index, doc_weight in kb._postings.get(term, ()):
            scores[doc_index] = scores.get(doc_index, 0.0) + weight * doc_weight
    best: dict[str, float] = {}
    for doc_index, score in scores.items():
        entry_id = kb._docs[doc_index][0]
        if score > best.get(entry_id, 0.0):
            best[entry_id] = score
    words = {t for t in terms if " " not in t}
    total = sum(kb._idf.get(t, kb._unseen_idf) for t in words) or 1.0
    for entry_id, cosine in best.items():
        known = kb._entry_terms[entry_id]
        recall = sum(kb._idf[t] for t in words if t in known) / total
        best[entry_id] = math.sqrt(max(0.0, cosine) * recall)
    if kb._embedder is not None and kb._doc_vectors is not None and semantic_weight > 0:
        similarities = kb._doc_vectors @ kb._embedder.encode([text])[0]
        meaning: dict[str, float] = {}
        for owner, similarity in zip(kb._doc_owner, similarities.tolist(), strict=True):
            if similarity > meaning.get(owner, -1.0):
                meaning[owner] = similarity
        best = {
            entry_id: semantic_weight * max(0.0, sim) + (1 - semantic_weight) * best.get(entry_id, 0.0)
            for entry_id, sim in meaning.items()
        }
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [KnowledgeMatch(id=i, title=kb._by_id[i].title, score=round(min(1.0, s), 4)) for i, s in ranked]


@pytest.mark.parametrize("encoder", ["words", "static"])
def test_knowledge_search_equals_the_reference(features: list[MessageFeatures], encoder: str) -> None:
    """The inverted recall sum, numpy blend and partial sort rank and score exactly as the plain search,
    on the example knowledge grown to 200 entries from corpus questions."""
    lines = (ROOT / "config/examples/knowledge.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    questions = [f.text for f in features if 20 <= len(f.text) <= 200]
    for i in range(200 - len(entries)):
        q = questions[i % len(questions)]
        entries.append(
            {"id": f"kb-{i}", "title": q[:80], "body": questions[(i + 1) % len(questions)], "questions": [q]}
        )
    kb = KnowledgeBase(
        [KnowledgeEntry(e["id"], e["title"], e.get("body", ""), tuple(e.get("questions", ()))) for e in entries],
        embedder=bundled_embedder() if encoder == "static" else None,
    )
    covered = 0
    for f in features:
        # The per-entry cosines themselves (before rounding) are the same floats as the Python loop's.
        content, lang = content_words(f.text)
        terms = [stem(kb._vocabulary.correct(w) or w, lang) for w in content]
        query = kb._vector(terms + [f"{a} {b}" for a, b in itertools.pairwise(terms)])
        scores: dict[int, float] = {}
        for term, weight in query.items():
            for doc_index, doc_weight in kb._postings.get(term, ()):
                scores[doc_index] = scores.get(doc_index, 0.0) + weight * doc_weight
        expected: dict[str, float] = {}
        for doc_index, score in scores.items():
            if score > expected.get(kb._docs[doc_index][0], 0.0):
                expected[kb._docs[doc_index][0]] = score
        assert kb._cosines(query) == expected
        for limit in (1, 3):
            found = kb.search(f.text, limit=limit)
            assert found == _reference_search(kb, f.text, limit=limit), f.text[:60]
            covered += bool(found) and found[0].score >= 0.5
    assert covered > 20  # many questions really matched an entry


def test_sentence_facts_equal_the_per_hit_reads(engine: DecisionEngine, features: list[MessageFeatures]) -> None:
    """The one-pass sentence facts of topic framing answer as the per-hit functions they replace."""
    compared = 0
    for f in features:
        text = engine._analyzer.analyze(f.text)
        facts = _Sentences(text)
        assert facts.any_digits == any(any(ch.isdigit() for ch in n) for n in text.norms)
        assert set(facts.numbers) == (set(text.sentences) or {0})
        for sentence in range(max(text.sentences, default=0) + 2):
            assert facts.is_question(sentence) == _is_question(text, sentence), (f.text[:60], sentence)
            assert (sentence in facts.with_digits) == _has_specifics(text, sentence)
            assert (sentence in facts.with_where) == _asks_where(text, sentence)
            compared += facts.is_question(sentence)
    assert compared > 30  # many sentences really were questions


def _char_ngrams_reference(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Character 3- and 4-gram buckets the plain way: each order hashed from its own tag."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text
    codes = np.frombuffer(lowered.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes)
    keys, starts, ends = [], [], []
    with np.errstate(over="ignore"):
        for order in (3, 4):
            if n < order:
                break
            h = np.full(n - order + 1, np.uint64(order) * features_module._CHAR_TAG, dtype=np.uint64)
            for k in range(order):
                h = h * features_module._CHAR_PRIME + codes[k : n - order + 1 + k]
            keys.append(h)
            first = np.arange(n - order + 1, dtype=np.int64)
            starts.append(first)
            ends.append(first + order)
        if not keys:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        hashed = np.concatenate(keys) * features_module._FIBONACCI
        buckets = (hashed >> features_module._BUCKET_SHIFT).astype(np.int64)
    return buckets, np.concatenate(starts), np.concatenate(ends)


def _word_ngrams_reference(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word-piece uni-, bi- and trigram buckets as first written, with the token positions they span."""
    n = len(ids)
    keys, starts, ends = [ids], [np.arange(n)], [np.arange(n)]
    for order in (2, 3):
        if n >= order:
            packed = ids[: n - order + 1].copy()
            for k in range(1, order):
                packed = packed * features_module._SHIFT + ids[k : n - order + 1 + k]
            keys.append(packed + (order - 1) * features_module._ORDER_TAG)
            starts.append(np.arange(n - order + 1))
            ends.append(np.arange(order - 1, n))
    with np.errstate(over="ignore"):
        hashed = np.concatenate(keys).astype(np.uint64) * features_module._FIBONACCI
    return (hashed >> features_module._BUCKET_SHIFT).astype(np.int64), np.concatenate(starts), np.concatenate(ends)


def _featurize_reference(text: str) -> tuple[np.ndarray, ...]:
    """Buckets, values, spans and style the plain way: separate arrays per order, ``np.unique``, 1 + log."""
    ids, offsets = bundled_embedder().word_pieces([text])[0]
    words, word_starts, word_ends = _word_ngrams_reference(ids)
    chars, char_starts, char_ends = _char_ngrams_reference(text)
    raw = np.concatenate([words, chars])
    if not len(raw):
        return (raw, np.zeros(0, dtype=np.float32), raw, raw)
    buckets, first, counts = np.unique(raw, return_index=True, return_counts=True)
    values = (1.0 + np.log(counts)).astype(np.float32)
    values /= np.float32(np.sqrt(values @ values))
    starts = np.concatenate([offsets[word_starts, 0], char_starts])
    ends = np.concatenate([offsets[word_ends, 1], char_ends])
    return buckets, values, starts[first], ends[first]


def _style_reference(text: str) -> np.ndarray:
    caps = 0.0
    if len(text) >= 8 and len(text) == len(text.lower()) == len(text.upper()):
        capitals = sum(c != c.lower() for c in text)
        letters = sum(c != c.lower() or c != c.upper() for c in text)
        caps = capitals / letters if letters >= 8 else 0.0
    counts = [min(text.count("!"), 5) / 5.0, min(text.count("?"), 5) / 5.0, min(len(text), 1000) / 1000.0]
    return np.array([caps, *counts], dtype=np.float32)


def test_featurizer_equals_the_plain_computations() -> None:
    """One key array hashed at once, packed-sort unique and lazy spans give the per-order, np.unique arrays."""
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()[::2]]
    texts += ["", "a", "ab", "abc", "abcd", "hi", "Rückerstattung", "İstanbul ǅ", "!!", "Ok.", "ÀÉÎ ÕÜ ÇA"]
    texts += ["\u00e9" * 5, "REFUND NOW!!!", "x" * 300, "a b c d e f g h i j k l m n o p q r s t u v w x y z"]
    for text, got in zip(texts, bundled_featurizer().featurize_many(texts), strict=True):
        buckets, values, starts, ends = _featurize_reference(text)
        assert got.buckets.dtype == buckets.dtype and np.array_equal(got.buckets, buckets), text[:60]
        assert got.values.dtype == values.dtype and np.array_equal(got.values, values), text[:60]
        assert np.array_equal(got.span_starts, starts) and np.array_equal(got.span_ends, ends), text[:60]
        assert got.style.dtype == np.float32 and np.array_equal(got.style, _style_reference(text)), text[:60]
        assert got.style.tobytes() == features_module.style_features(text).tobytes()


def test_style_byte_counts_equal_the_character_counts() -> None:
    """Every corpus message and 5,000 generated strings: the ASCII byte-count path gives the per-character style."""
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(5)
    alphabet = "aZbYcX !?.,'\t\n0129@[]`{}~" + "éÉß"
    texts += [
        "".join(rng.choice(alphabet[: rng.choice((26, len(alphabet)))]) for _ in range(rng.randint(0, 40)))
        for _ in range(5_000)
    ]
    texts += ["ABCDEFGH", "abcdefgh", "ABCDefgh!", "1234567890", "A" * 7 + "b"]
    for text in texts:
        assert features_module.style_features(text).tobytes() == _style_reference(text).tobytes(), text[:60]


def test_unique_equals_numpy_unique() -> None:
    """The packed-sort unique gives np.unique's buckets, first occurrences and counts."""
    rng = random.Random(12)
    for size in (1, 2, 3, 7, 100, 5_000):
        raw = np.array([rng.randrange(0 if size < 100 else 1 << 17, 1 << 18) for _ in range(size)], dtype=np.int64)
        raw[size // 2 :: 3] = raw[0]  # repeats
        unique, reference = features_module._unique(raw), np.unique(raw, return_index=True, return_counts=True)
        assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(unique, reference, strict=True))


def _tokenize_reference(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]:
    """Tokens as first written: every text cut at sentence boundaries, words found per sentence."""
    words: list[str] = []
    sentences: list[int] = []
    start = sentence = 0
    for m in normalize._SENTENCE_END.finditer(text):
        found = normalize._WORD.findall(text, start, m.end())
        words += found
        sentences += [sentence] * len(found)
        sentence += 1
        start = m.end()
    found = normalize._WORD.findall(text, start)
    words += found
    sentences += [sentence] * len(found)
    return tuple(words), tuple(normalize.fold(w) for w in words), tuple(sentences)


def test_tokenize_without_boundary_characters_equals_the_sentence_cut() -> None:
    """Texts with no character a sentence boundary needs take one findall and tokenise as the sentence cut does."""
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    rnd = random.Random(4)
    texts += ["".join(rnd.choice("ab C.!?¿¡…\n\r\t ’'_É1") for _ in range(rnd.randint(0, 30))) for _ in range(3_000)]
    single = 0
    for text in texts:
        tokens = normalize.tokenize(text)
        assert (tokens.words, tokens.norms, tokens.sentences) == _tokenize_reference(text), text[:60]
        single += not normalize._ENDS_OR_BREAKS.intersection(text)
    assert single > 100  # the shortcut was taken


def _fact_texts() -> list[str]:
    """Every corpus message, and 20,000 generated strings dense in what the fact patterns read."""
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    pieces = (
        "order Order ORDER orders pedido commande Bestellung encomenda ordine bestelling ticket case CASE invoice "
        "factura facture rechnung fatura no. nr n° nº number num id # : - 12 123 1234 12345 A7781 INV-2231 "
        "12/03/2024 3.4.24 2024-03-02 $ € £ ¥ eur euros usd dollars gbp pounds chf brl reais mxn 1,234.56 "
        "0,99 49.99 mar March May may sept Sep dec 3rd 21st of jan feb apr jun jul aug oct nov x é ſ İ K ١٢ "
        "kelvin _ ' ’ @ + 00 the a my was"
    ).split()
    separators = ["", " ", " ", ",", ".", "\n", "  ", "/", "-"]
    rng = random.Random(12)
    for _ in range(20_000):
        words = [rng.choice(pieces) for _ in range(rng.randint(1, 14))]
        texts.append("".join(w + rng.choice(separators) for w in words))
    return texts


def test_fact_patterns_anchored_equal_their_scans() -> None:
    """Order, amount and date matches found from their possible starts equal the patterns' own finditer."""
    from handoff_core import facts

    found = 0
    for text in _fact_texts():
        lowered = text.lower() if text.isascii() else None
        for fast, pattern in (
            (facts.order_matches(text, lowered), facts._ORDER),
            (facts.amount_matches(text), facts._AMOUNT),
            (facts.date_matches(text, lowered), facts._DATE),
        ):
            expected = [(m.span(), m.groupdict()) for m in pattern.finditer(text)]
            assert [(m.span(), m.groupdict()) for m in fast] == expected, (pattern.pattern[:30], text)
            found += len(expected)
    assert found > 10_000  # the strings really hold orders, amounts and dates


def test_word_spans_equal_the_token_pattern() -> None:
    """Spans found from the tokenised words equal the token pattern's spans, on every fact test string."""
    for text in _fact_texts()[:6_000]:
        words = normalize.tokenize(text).words
        flat = [offset for pair in normalize.token_spans(text) for offset in pair]
        assert list(normalize.word_spans(text, words)) == flat, text


def test_capitals_shortcut_equals_the_word_by_word_read(default_engine: DecisionEngine) -> None:
    """A plain-ASCII text without three capitals in a row weighs 0 for capitals, as reading its words gives."""
    from handoff_core.sentiment import caps_weight_of

    engine = default_engine
    scorer = engine._sentiment
    weight = scorer.config.caps_weight
    assert weight  # the shipped policy weighs capitals, so the shortcut is on the decision path
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(6)
    pieces = "I OK NO HELP WTF Why THIS is ABSOLUTELY not ok É ÉTÉ AB ABC Abc aBC a1B2C3 DON'T Ünd 中中中 USA".split()
    texts += [" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 9))) for _ in range(3_000)]
    shortcut = 0
    for text in texts:
        analyzed = engine._analyzer.analyze(text, "en")
        assert scorer._caps_weight(analyzed) == caps_weight_of(analyzed.words, weight), text
        shortcut += text.isascii() and not any(w.isupper() and len(w) >= 3 for w in analyzed.words)
    assert shortcut > 1_000  # most texts take it


def test_tokenize_memo_never_returns_another_texts_tokens() -> None:
    """The one-slot memo of the last text gives each text its own tokens, however calls alternate."""
    texts = ["Where is my order?", "I want a refund. Now!", "Where is my order?", "", "Where is my order?"]
    for text in texts * 3:
        tokens = normalize.tokenize(text)
        assert (tokens.words, tokens.norms, tokens.sentences) == _tokenize_reference(text)
    again = normalize.tokenize("I want a refund. Now!")
    assert normalize.tokenize("I want a refund. Now!") is again  # the second read takes the first's tokens


def test_embedding_rows_by_take_equal_indexed_rows() -> None:
    """Word-piece vectors gathered with ``take`` are bit for bit the rows indexing gave (the same scaling)."""
    embedder = bundled_embedder()
    rng = np.random.default_rng(3)
    for size in (1, 2, 17, 300):
        ids = rng.integers(0, embedder._quantized.shape[0], size=size).astype(np.int64)
        plain = embedder._quantized[ids].astype(np.float32) * embedder._scales[ids][:, None]
        assert embedder.vectors(ids).tobytes() == plain.tobytes()


def test_detector_rows_by_take_equal_indexed_rows(features: list[MessageFeatures]) -> None:
    """Every head's logits from rows gathered with ``take`` are bit for bit those of indexed rows."""
    detectors = bundled_detectors()
    for f in features:
        rows = detectors._hashed[f.buckets].astype(np.float32, copy=False)
        dense = np.concatenate([f.embedding, f.style])
        plain = f.values @ rows + detectors._dense @ dense + detectors._bias
        shift = detectors._length_shift(f)  # round 7: the length offset of long messages, added in float32
        if shift is not None:
            plain = plain + shift
        assert detectors.logits(f).tobytes() == plain.tobytes()


def _encode_reference(embedder: StaticEmbedder, text: str) -> np.ndarray:
    """The knowledge query's vector as ``encode`` worked it out for any number of texts (before round 8)."""
    out = np.zeros((1, embedder.dim), dtype=np.float32)
    ids = embedder.word_pieces([text])[0][0]
    if len(ids):
        out[0] = embedder.vectors(ids).mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: np.ndarray = out / norms
    return result


def test_one_text_encoding_equals_the_batch_arithmetic() -> None:
    """Every corpus message, whole and windowed, and generated strings: one query's vector is the batch code's."""
    embedder = bundled_embedder()
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    texts += [analysis_window(t) for t in texts]
    rng = random.Random(8)
    texts += ["".join(rng.choice("ab cd!?é9") for _ in range(rng.randint(0, 30))) for _ in range(1_000)]
    texts += ["", "   ", "!!!", "[UNK]"]
    for text in texts:
        got, expected = embedder.encode([text]), _encode_reference(embedder, text)
        assert got.shape == expected.shape and got.dtype == expected.dtype, text[:60]
        assert got.tobytes() == expected.tobytes(), text[:60]
