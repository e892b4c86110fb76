"""A Python service on Arbiter's gRPC contract: bank transfers in every mode,
the error cases, and two deliberate 'crashes' of the service mid-protocol.
Prints one JSON object per line (the test reads them).

    PYTHONPATH=STUBS_DIR:examples/python /usr/bin/python3 examples/python/service.py transfers \
        --address 127.0.0.1:50051 --pg-url postgres://... --mysql-url mysql://... --count 40

Commands:
  schema     creates the tables the transfers write (accounts if missing, and ledger) in both databases
  transfers  concurrent transfers in the modes through-tm, one-shot, local (Enlist), local-named
  errors     error cases, each reported as {code, grpcStatus, retryable, serverCode}
  crash      a local-branch transfer whose service 'dies' after the decision, and one after prepare
"""

import argparse
import json
import random
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pymysql

from arbiter_client import ArbiterClient, ArbiterError, SimulatedCrash
from bank_transfer import Account, InsufficientFunds, Transfer, local_branches, one_shot, through_tm

MODES = ["through-tm", "one-shot", "local", "local-named"]

# examples/bank-transfer/schema.ts: the quick start's bank (README.md) has only accounts; every transfer
# also writes its legs to ledger.
SCHEMA = {
    "pg": [
        "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))",
        "CREATE TABLE IF NOT EXISTS ledger (transfer_id text NOT NULL, account_id int NOT NULL, delta bigint NOT NULL, PRIMARY KEY (transfer_id, account_id))",
    ],
    "mysql": [
        "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0)) ENGINE=InnoDB",
        "CREATE TABLE IF NOT EXISTS ledger (transfer_id varchar(64) NOT NULL, account_id int NOT NULL, delta bigint NOT NULL, "
        "PRIMARY KEY (transfer_id, account_id)) ENGINE=InnoDB",
    ],
}
# The accounts the transfers use, 1 000 each; an account that exists is left as it is.
OPEN_ACCOUNT = {
    "pg": "INSERT INTO accounts (id, balance) VALUES (%s, 1000) ON CONFLICT (id) DO NOTHING",
    "mysql": "INSERT IGNORE INTO accounts (id, balance) VALUES (%s, 1000)",
}
_print_lock = threading.Lock()


def emit(obj) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def pg_connect(url: str):
    conn = psycopg2.connect(url)
    conn.autocommit = True  # the branch's BEGIN is sent by the client, not by psycopg2
    return conn


def mysql_connect(url: str):
    u = urllib.parse.urlparse(url)
    return pymysql.connect(
        host=u.hostname or "127.0.0.1",
        port=u.port or 3306,
        user=urllib.parse.unquote(u.username or "root"),
        password=urllib.parse.unquote(u.password or ""),
        database=u.path.lstrip("/"),
        autocommit=True,
    )


class Connections(threading.local):
    """Each worker thread's own two connections (a tiny pool). A connection whose branch the
    client left to the TM was closed: it is replaced, never reused."""

    def get(self, args) -> dict:
        conns = getattr(self, "conns", None)
        if conns is None or any(getattr(c, "closed", False) or (hasattr(c, "open") and not c.open) for c in conns.values()):
            self.drop()
            conns = self.conns = {"pg": pg_connect(args.pg_url), "mysql": mysql_connect(args.mysql_url)}
        return conns

    def drop(self) -> None:
        for c in (getattr(self, "conns", None) or {}).values():
            try:
                c.close()
            except Exception:
                pass
        self.conns = None


def describe(error: BaseException) -> dict:
    if isinstance(error, ArbiterError):
        return {
            "code": error.code,
            "grpcStatus": error.grpc_status_number,
            "retryable": error.retryable,
            "serverCode": error.server_code,
            "message": error.message[:300],
        }
    return {"code": type(error).__name__, "message": str(error)[:300]}


def client_of(args, token=None) -> ArbiterClient:
    return ArbiterClient(
        args.address,
        token=token or args.token,
        tls=args.tls,
        root_certificates=args.tls_ca,
        cert_chain=args.tls_cert,
        private_key=args.tls_key,
        allow_insecure_token=args.allow_insecure_token,
    )


def cmd_schema(args) -> None:
    """Safe to run again: what exists is left as it is (accounts 1..N and 1001..1000+N, 1 000 each)."""
    ids = {"pg": [(1 + i,) for i in range(args.per_bank)], "mysql": [(1001 + i,) for i in range(args.per_bank)]}
    for bank, conn in (("pg", pg_connect(args.pg_url)), ("mysql", mysql_connect(args.mysql_url))):
        try:
            with conn.cursor() as cur:
                for sql in SCHEMA[bank]:
                    cur.execute(sql)
                cur.executemany(OPEN_ACCOUNT[bank], ids[bank])
        finally:
            conn.close()
    emit({"schema": "ready", "perBank": args.per_bank})


def cmd_transfers(args) -> None:
    client = client_of(args)
    rng = random.Random(args.seed)
    pg_ids = [i + 1 for i in range(args.per_bank)]
    my_ids = [1001 + i for i in range(args.per_bank)]
    accounts = [Account("pg", i) for i in pg_ids] + [Account("mysql", i) for i in my_ids]
    jobs = []
    for i in range(args.count):
        source, target = rng.sample(accounts, 2)
        big = args.big_every > 0 and i % args.big_every == args.big_every - 1
        amount = 10**6 if big else rng.randint(1, 50)
        mode = MODES[i % len(MODES)]
        lose = args.lose_every > 0 and i % args.lose_every == args.lose_every - 1
        jobs.append((Transfer(f"{args.prefix}-{i}", source, target, amount), mode, lose))
    local = Connections()

    def one(job) -> None:
        t, mode, lose = job
        record = {"id": t.id, "mode": mode, "lostAnswer": lose}
        try:
            if mode == "through-tm":
                record["gtrid"] = through_tm(client, t, hooks={"lose-commit-answer": lose})
            elif mode == "one-shot":
                record["gtrid"] = one_shot(client, t, lose_answer=lose)
            else:
                record["gtrid"] = local_branches(client, local.get(args), t, name_it_here=mode == "local-named", hooks={"lose-commit-answer": lose})
            record["outcome"] = "committed"
        except InsufficientFunds:
            record["outcome"] = "aborted:insufficient funds"
        except ArbiterError as error:
            record.update(describe(error))
            record["outcome"] = "unknown" if error.code == "TM_OUTCOME_UNKNOWN" else f"aborted:{error.code}"
            if mode.startswith("local"):
                local.drop()
        except Exception as error:  # a driver error on the service's own connection
            record.update(describe(error))
            record["outcome"] = f"aborted:{type(error).__name__}"
            if mode.startswith("local"):
                local.drop()
        record["at"] = int(time.time() * 1000)
        emit(record)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.threads, initializer=None) as pool:
        list(pool.map(one, jobs))
    client.close()  # sends the completion reports still gathered
    emit({"done": True, "seconds": round(time.monotonic() - started, 2)})


def cmd_errors(args) -> None:
    client = client_of(args)
    node = client.begin(timeout_ms=1000).gtrid.split(":")[0]
    cases = {}

    def case(name, fn) -> None:
        try:
            fn()
            cases[name] = {"code": "none"}
        except BaseException as error:  # noqa: BLE001 - every failure is the answer here
            cases[name] = describe(error)

    def refused_statement():
        with client.transaction() as tx:
            tx.execute("pg", "COMMIT")

    def check_violation_execute():
        with client.transaction() as tx:
            tx.execute("pg", "UPDATE accounts SET balance = balance - 1000000000 WHERE id = 1")

    def check_violation_run_mysql():
        client.run([("mysql", "UPDATE accounts SET balance = balance - 1000000000 WHERE id = 1001", [])])

    def unknown_resource():
        with client.transaction() as tx:
            tx.execute("nosuch", "SELECT 1")

    def unknown_transaction():
        client.get_transaction(f"{node}:01ARZ3NDEKTSV4RRFFQ69G5FAV")

    def deadline_passed():
        with client.transaction(timeout_ms=300) as tx:
            time.sleep(0.8)
            tx.execute("pg", "SELECT 1")

    def local_unknown_resource():
        conn = pg_connect(args.pg_url)
        try:
            with client.transaction() as tx:
                tx.enlist("nosuch", conn, name_it_here=True)
                with conn.cursor() as cur:
                    cur.execute("UPDATE accounts SET balance = balance WHERE id = 1")
        finally:
            conn.close()

    def local_branch_cannot_prepare():
        conn = pg_connect(args.pg_url)
        try:
            with client.transaction() as tx:
                tx.enlist("pg", conn)
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1/0")
                except psycopg2.Error:
                    pass  # swallowed: the branch's block is aborted, so it votes no
        finally:
            conn.close()

    def bad_token():
        other = client_of(args, token="not-the-token")
        try:
            other.run([("pg", "SELECT 1", [])])
        finally:
            other.close()

    case("refused statement", refused_statement)
    case("CHECK violation through the TM", check_violation_execute)
    case("CHECK violation in a Run on MariaDB", check_violation_run_mysql)
    case("unknown resource", unknown_resource)
    case("unknown transaction", unknown_transaction)
    case("deadline passed", deadline_passed)
    case("local branch on an unknown resource", local_unknown_resource)
    case("local branch that cannot prepare", local_branch_cannot_prepare)
    if args.token:
        case("wrong token", bad_token)
    client.close()
    emit({"cases": cases})


def cmd_crash(args) -> None:
    """Two local-branch transfers whose service 'dies': the TM must finish both branches from its
    own sessions, by the XIDs this service spelled (a wrong spelling would leave them prepared)."""
    client = client_of(args)
    # Other accounts each: the first one's rows stay locked until the TM finishes its branches.
    for n, (point, timeout_ms) in enumerate((("after-decision", 10_000), ("after-prepare", 3_000))):
        conns = {"pg": pg_connect(args.pg_url), "mysql": mysql_connect(args.mysql_url)}
        t = Transfer(f"{args.prefix}-{point}", Account("pg", 1 + n), Account("mysql", 1001 + n), 7)
        gtrid = None
        try:
            with client.transaction(timeout_ms=timeout_ms, labels={"transfer": t.id}, hooks={"crash": point}) as tx:
                gtrid = tx.gtrid
                local_branches_in(tx, conns, t)
        except SimulatedCrash:
            pass
        emit({"id": t.id, "point": point, "gtrid": gtrid})
    client.close()


def local_branches_in(tx, conns, t) -> None:
    tx.enlist("pg", conns["pg"])
    tx.enlist("mysql", conns["mysql"])
    with conns["mysql"].cursor() as cur:
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (t.amount, t.target.id))
        cur.execute("INSERT INTO ledger (transfer_id, account_id, delta) VALUES (%s, %s, %s)", (t.id, t.target.id, t.amount))
    with conns["pg"].cursor() as cur:
        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (t.amount, t.source.id))
        cur.execute("INSERT INTO ledger (transfer_id, account_id, delta) VALUES (%s, %s, %s)", (t.id, t.source.id, -t.amount))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["schema", "transfers", "errors", "crash"])
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("--token")
    parser.add_argument("--tls", action="store_true", help="TLS with the system's root certificates")
    parser.add_argument("--tls-ca", help="PEM file of the CA that signed the TM's certificate (turns TLS on)")
    parser.add_argument("--tls-cert", help="PEM file of this client's certificate, for mutual TLS (with --tls-key)")
    parser.add_argument("--tls-key", help="PEM file of this client's private key, for mutual TLS (with --tls-cert)")
    parser.add_argument("--allow-insecure-token", action="store_true", help="send --token in plaintext to a non-loopback address")
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--mysql-url", required=True)
    parser.add_argument("--per-bank", type=int, default=4)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prefix", default="py")
    parser.add_argument("--big-every", type=int, default=0, help="every k-th transfer tries to overdraw (0: none)")
    parser.add_argument("--lose-every", type=int, default=0, help="every k-th transfer loses the answer to its Commit/Run")
    args = parser.parse_args()
    {"schema": cmd_schema, "transfers": cmd_transfers, "errors": cmd_errors, "crash": cmd_crash}[args.command](args)


if __name__ == "__main__":
    main()
