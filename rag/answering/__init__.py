"""The reader: from retrieved passages to a direct answer, or a plain statement that the passages do not hold one.

``question`` reads what kind of answer a question expects; ``sentences`` keeps the passage sentences that can be
evidence (not headlines, bylines, captions, odds lines or promotions); ``spans`` finds phrases of the expected kind
in them; ``answerability`` judges whether the best evidence answers *this* question; ``reader`` puts it together as a
writer that drafts the short answer and the sentence(s) that support it. ``compose`` reads the evidence sentences and
assembles the cited answer, ``verify`` checks every sentence against what it cites, ``chat`` and ``followup`` carry a
conversation's earlier turns into the next question.
"""
