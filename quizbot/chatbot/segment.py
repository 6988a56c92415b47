"""Where jieba's word boundaries fall in a short window, without building the tokens.

``inspect`` asks jieba where the words of a few characters around a doubtful two-character hit
begin and end ("中奖" in "集中奖励" is not a word there). ``word_ends`` answers exactly what
``tokenizer.lcut(text, HMM=False)`` would (the end offset of every token), with the same
dictionary, the same dynamic programme and the same tie-breaks, but in one pass without
jieba's generators and with each word's log-probability computed once. It is about twice as
fast on the windows ``inspect`` reads; ``tests/chatbot/test_speedups.py`` checks it against
jieba itself on every corpus text and random windows of them.
"""

from __future__ import annotations

from math import log

import jieba

# jieba's own patterns, so blocks and latin runs are split exactly as lcut splits them
_HAN_BLOCK = jieba.re_han_default
_LATIN = jieba.re_eng
_SKIP = jieba.re_skip_default


class WordEnds:
    """The token ends of jieba's HMM-free cut, for one initialised ``jieba.Tokenizer``."""

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        self._freq = tokenizer.FREQ
        self._logtotal = log(tokenizer.total)
        # word -> log(freq) - log(total), filled as words are met (at most the dictionary)
        self._logp: dict[str, float] = {}

    def __call__(self, text: str) -> list[int]:
        """The offset just after each token of ``text``, in order (the last is ``len(text)``)."""
        out: list[int] = []
        pos = 0
        for block in _HAN_BLOCK.split(text):
            if not block:
                continue
            if _HAN_BLOCK.match(block):
                self._cut(block, out, pos)
            else:  # one token per character, except that CR LF stays one token
                for part in _SKIP.split(block):
                    if _SKIP.match(part):
                        out.append(pos + len(part))
                    else:
                        out.extend(range(pos + 1, pos + len(part) + 1))
                    pos += len(part)
                continue
            pos += len(block)
        return out

    def _cut(self, s: str, out: list[int], pos: int) -> None:
        """jieba's ``__cut_DAG_NO_HMM`` on one block: best route from the right, then the ends,
        merging runs of single latin letters or digits into one token as jieba does."""
        get, logp, logtotal = self._freq.get, self._logp, self._logtotal
        n = len(s)
        score = [0.0] * (n + 1)
        step = [0] * (n + 1)
        for idx in range(n - 1, -1, -1):
            best: tuple[float, int] | None = None
            i = idx + 1
            frag = s[idx]
            f = get(frag)
            # every dictionary word starting here (jieba's DAG), longest last: a later candidate
            # wins a tie, as in jieba's max over (score, end)
            while f is not None:
                if f:
                    lp = logp.get(frag)
                    if lp is None:
                        lp = logp[frag] = log(f) - logtotal
                    cand = (lp + score[i], i)
                    if best is None or cand > best:
                        best = cand
                if i >= n:
                    break
                i += 1
                frag = s[idx:i]
                f = get(frag)
            if best is None:  # no word starts here: the single character, frequency 1
                best = (0.0 - logtotal + score[idx + 1], idx + 1)
            score[idx], step[idx] = best
        x = 0
        latin_run = False
        while x < n:
            y = step[x]
            single_latin = y - x == 1 and _LATIN.match(s[x]) is not None
            if single_latin and latin_run:
                out[-1] = pos + y
            else:
                out.append(pos + y)
            latin_run = single_latin
            x = y
