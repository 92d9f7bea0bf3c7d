"""Two kill -9 trials of the digest sender against a faulty mail server (the benchmark
``benchmarks.mail_faults`` runs 20): after a re-run nobody is missing, and a kill sends at
most one message twice (the one between the server's acceptance and its row's commit).
"""

from __future__ import annotations

from pathlib import Path

import benchmarks.mail_faults as trials
import pytest


def test_killed_senders_lose_nothing_and_duplicate_at_most_one_message(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trials, "SUBSCRIBERS", 80)
    results = trials.run_trials(2, seed=3)
    for trial in results:
        assert trial.sent_before_kill >= 1  # killed while sending
        assert trial.losses == 0
        assert trial.duplicates <= 1
        assert len(trial.windows) >= 70  # the readers' messages (every 25th address bounces)
