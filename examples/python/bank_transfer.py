"""The bank transfer (examples/bank-transfer/) from Python, in the three ways
an application can use Arbiter:

- through_tm: the statements go through the TM (Begin, ExecuteBatch, Commit);
- one_shot: one Run call (Begin names it, so a lost answer can be asked about);
- local_branches: the service's own psycopg2 / PyMySQL connections, enlisted
  as local branches (Enlist, its own PREPARE TRANSACTION / XA PREPARE, the
  votes on Commit, phase 2 on its own connections).

Accounts 1..N live in PostgreSQL (resource "pg"), 1001..1000+N in
MySQL/MariaDB (resource "mysql"), as in examples/bank-transfer/accounts.ts.
The legs run in one global lock order (by "bank:id" as text), the same as the
TypeScript example's, so transfers from both languages never deadlock across
the two databases.
"""

from typing import List, NamedTuple, Optional, Tuple

from arbiter_client import ArbiterClient, TransactionAbortedError


class Account(NamedTuple):
    bank: str  # "pg" | "mysql"
    id: int

    @property
    def key(self) -> str:
        return f"{self.bank}:{self.id}"


class Transfer(NamedTuple):
    id: str  # unique: the ledger's key
    source: Account
    target: Account
    amount: int


class Leg(NamedTuple):
    account: Account
    delta: int  # negative for the debit


class InsufficientFunds(Exception):
    def __init__(self, account: Account, amount: int):
        super().__init__(f"insufficient funds: account {account.key} cannot pay {amount}")


def legs_in_lock_order(t: Transfer) -> List[Leg]:
    legs = [Leg(t.source, -t.amount), Leg(t.target, t.amount)]
    return sorted(legs, key=lambda leg: leg.account.key)


def _tm_sql(leg: Leg, transfer_id: str) -> List[Tuple[str, str, list]]:
    """A leg's two statements as the TM runs them: pg placeholders $n, MySQL '?' (mysql2)."""
    pg = leg.account.bank == "pg"
    if leg.delta < 0:
        amount = -leg.delta
        update = (
            ("UPDATE accounts SET balance = balance - $1 WHERE id = $2 AND balance >= $1", [amount, leg.account.id])
            if pg
            else ("UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?", [amount, leg.account.id, amount])
        )
    else:
        update = (
            ("UPDATE accounts SET balance = balance + $1 WHERE id = $2", [leg.delta, leg.account.id])
            if pg
            else ("UPDATE accounts SET balance = balance + ? WHERE id = ?", [leg.delta, leg.account.id])
        )
    insert = (
        "INSERT INTO ledger (transfer_id, account_id, delta) VALUES ($1, $2, $3)"
        if pg
        else "INSERT INTO ledger (transfer_id, account_id, delta) VALUES (?, ?, ?)",
        [transfer_id, leg.account.id, leg.delta],
    )
    return [(leg.account.bank, update[0], update[1]), (leg.account.bank, insert[0], insert[1])]


def through_tm(client: ArbiterClient, t: Transfer, hooks: Optional[dict] = None) -> str:
    """Mode 1: every statement through the TM; each leg's two statements in one ExecuteBatch."""
    with client.transaction(timeout_ms=10_000, labels={"transfer": t.id, "language": "python"}, hooks=hooks) as tx:
        for leg in legs_in_lock_order(t):
            updated, _ = tx.execute_batch(_tm_sql(leg, t.id))
            if updated.affected_rows == 0:
                raise InsufficientFunds(t.source, t.amount)  # rolls back the other leg too
    return tx.gtrid


def one_shot(client: ArbiterClient, t: Transfer, lose_answer: bool = False) -> str:
    """Mode 3: one Run. No code runs in between, so the CHECK (balance >= 0) refuses an overdraft."""
    statements = []
    for leg in legs_in_lock_order(t):
        pg = leg.account.bank == "pg"
        update = "UPDATE accounts SET balance = balance + $1 WHERE id = $2" if pg else "UPDATE accounts SET balance = balance + ? WHERE id = ?"
        statements.append((leg.account.bank, update, [leg.delta, leg.account.id]))
        statements.append(_tm_sql(leg, t.id)[1])
    try:
        response = client.run(statements, timeout_ms=10_000, labels={"transfer": t.id, "language": "python"}, lose_answer=lose_answer)
    except TransactionAbortedError as error:
        # PostgreSQL 23514, MariaDB 4025: the CHECK refused the debit.
        if error.server_code in ("23514", "4025"):
            raise InsufficientFunds(t.source, t.amount) from error
        raise
    return response.transaction.gtrid


def local_branches(client: ArbiterClient, conns: dict, t: Transfer, name_it_here: bool = False, hooks: Optional[dict] = None) -> str:
    """Mode 2: the service's own connections (conns["pg"]: psycopg2 with autocommit=True,
    conns["mysql"]: PyMySQL with autocommit=True), enlisted as local branches."""
    banks = sorted({t.source.bank, t.target.bank})
    with client.transaction(timeout_ms=10_000, labels={"transfer": t.id, "language": "python"}, hooks=hooks) as tx:
        for bank in banks:
            tx.enlist(bank, conns[bank], name_it_here=name_it_here)
        for leg in legs_in_lock_order(t):
            conn = conns[leg.account.bank]
            with conn.cursor() as cur:
                # psycopg2 and PyMySQL both take %s placeholders (bound in the client).
                if leg.delta < 0:
                    cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s", (-leg.delta, leg.account.id, -leg.delta))
                else:
                    cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (leg.delta, leg.account.id))
                if cur.rowcount == 0:
                    raise InsufficientFunds(t.source, t.amount)
                cur.execute("INSERT INTO ledger (transfer_id, account_id, delta) VALUES (%s, %s, %s)", (t.id, leg.account.id, leg.delta))
    return tx.gtrid
