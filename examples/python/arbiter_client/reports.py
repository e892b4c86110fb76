"""Reports that local branches were committed (client/completion-reports.ts).

They only spare the TM its own commit of those branches after its grace
period (transactions.localBranchGraceMs), so nobody waits for them: they
ride on the next Commit (CommitRequest.completed_local) when one goes out
within REPORT_DELAY_S, else they go out together in one
CompleteLocalBranches request. A report whose request failed may be sent
again: applying one twice is harmless.
"""

import threading
from typing import Callable, List

from arbiter.v1 import transaction_manager_pb2 as tm

REPORT_DELAY_S = 0.020
REPORT_BATCH_MAX = 256


class CompletionReports:
    def __init__(self, send: Callable[[tm.CompleteLocalBranchesRequest], object]):
        self._send = send
        self._queue: List[tm.CommittedLocalBranches] = []
        self._lock = threading.Lock()
        self._timer = None

    def add(self, gtrid: str, committed_bquals: List[bytes]) -> None:
        self.put_back([tm.CommittedLocalBranches(gtrid=gtrid, committed_bquals=committed_bquals)])

    def put_back(self, reports: List[tm.CommittedLocalBranches]) -> None:
        with self._lock:
            self._queue.extend(reports)
            full = len(self._queue) >= REPORT_BATCH_MAX
            if not full and self._timer is None:
                self._timer = threading.Timer(REPORT_DELAY_S, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if full:
            self.flush()

    def take(self) -> List[tm.CommittedLocalBranches]:
        """What is queued, for a Commit to carry."""
        with self._lock:
            batch, self._queue = self._queue, []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return batch

    def flush(self) -> None:
        batch = self.take()
        if not batch:
            return
        try:
            self._send(tm.CompleteLocalBranchesRequest(batch=batch))
        except Exception:
            pass  # the TM finishes what it does not hear about
