#!/usr/bin/python3
"""Crash test: a long streaming import into a real atable-server, killed with SIGKILL at random
moments, restarted each time. After every restart the database must open, and every record whose
import stream was acknowledged must be there, intact. Prints one line per round and a summary.

  crash_test.py --server-binary B --proto-dir P [--rounds 20] [--seed 1] [--sync]
"""

import argparse
import os
import random
import signal
import sys
import tempfile
import threading
import time

from atable_process import create_key, generate_stubs, start_server

BATCH = 250  # records per ImportOffers stream: one acknowledgement each


def offer_for(pb, round_no, n):
    return pb.Offer(
        id=f"crash-{round_no}-{n}", provider_id="crash-prov", kind=pb.OFFER_KIND_ACTIVITY,
        sub_kind=pb.OFFER_SUB_KIND_OUTDOOR_SPORT, title=f"Randonnée {round_no}-{n}",
        descriptions={"fr": "x" * (n % 300)}, tags=["hiking", f"t{n % 17}"],
        prices=[pb.Price(min_amount_cents=1000 + n, max_amount_cents=2000 + n, unit=pb.PRICE_UNIT_PER_PERSON)],
        location={"latitude": 45.0 + (n % 100) / 1000.0, "longitude": 2.5})


def same(pb, sent, stored):
    """The stored offer is the sent one, leaving out what the server sets."""
    copy = pb.Offer()
    copy.CopyFrom(stored)
    copy.ClearField("create_time")
    copy.ClearField("update_time")
    copy.ClearField("etag")
    return copy == sent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-binary", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sync", action="store_true", help="run the server with --sync")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    tmp = tempfile.TemporaryDirectory()
    generate_stubs(args.proto_dir, tmp.name)
    import grpc
    from atable.v1 import catalog_pb2 as pb, catalog_pb2_grpc

    data = os.path.join(tmp.name, "data")
    log = os.path.join(tmp.name, "server.log")
    token = [("authorization", "Bearer " + create_key(args.server_binary, data, "--role", "organizer"))]
    flags = ["--sync"] if args.sync else []
    acked = {}  # id -> the Offer whose stream was acknowledged
    totals = {"acked": 0, "lost": 0, "damaged": 0, "streams": 0}

    def verify(stub):
        stored, token_page = {}, ""
        while True:
            page = stub.SearchOffers(pb.SearchOffersRequest(provider_id="crash-prov", page_size=1000,
                                                            page_token=token_page), timeout=60, metadata=token)
            for r in page.results:
                stored[r.offer.id] = r.offer
            token_page = page.next_page_token
            if not token_page:
                break
        lost = [i for i in acked if i not in stored]
        damaged = [i for i in acked if i in stored and not same(pb, acked[i], stored[i])]
        return lost, damaged, len(stored)

    for round_no in range(1, args.rounds + 2):
        process, address = start_server(args.server_binary, data, log, *flags)
        channel = grpc.insecure_channel(address)
        stub = catalog_pb2_grpc.CatalogStub(channel)
        lost, damaged, stored = verify(stub)
        totals["lost"] += len(lost)
        totals["damaged"] += len(damaged)
        if round_no > args.rounds:  # the last start only checks
            print(f"final check: {len(acked)} acknowledged records, {stored} stored, "
                  f"{len(lost)} lost, {len(damaged)} damaged")
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            break
        if round_no == 1:
            stub.UpsertProvider(pb.UpsertProviderRequest(provider=pb.Provider(id="crash-prov", name="Crash")),
                                timeout=10, metadata=token)

        stop = threading.Event()
        acked_this_round = [0]

        def importer():
            n = 0
            while not stop.is_set():
                offers = [offer_for(pb, round_no, n + i) for i in range(BATCH)]
                n += BATCH
                messages = [pb.ImportOffersRequest(records=[pb.ImportRecord(offer=o) for o in offers[i:i + 50]])
                            for i in range(0, BATCH, 50)]
                try:
                    summary = stub.ImportOffers(iter(messages), timeout=30, metadata=token)
                except grpc.RpcError:
                    return  # the server died mid-stream: nothing of this stream was acknowledged
                if summary.rejected:
                    print("unexpected rejections:", summary.rejected_records[:3], file=sys.stderr)
                    sys.exit(1)
                for o in offers:
                    acked[o.id] = o
                acked_this_round[0] += len(offers)
                totals["streams"] += 1

        thread = threading.Thread(target=importer)
        thread.start()
        time.sleep(rng.uniform(0.3, 2.0))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        stop.set()
        thread.join(60)
        channel.close()
        totals["acked"] = len(acked)
        print(f"round {round_no}: killed after {acked_this_round[0]} acknowledged records; "
              f"before it {stored} stored, {len(lost)} lost, {len(damaged)} damaged", flush=True)

    ok = totals["lost"] == 0 and totals["damaged"] == 0 and len(acked) > 0
    print(f"crash test: {args.rounds} SIGKILLs{' with --sync' if args.sync else ''}, {len(acked)} records "
          f"acknowledged in {totals['streams']} streams, {totals['lost']} lost, {totals['damaged']} damaged: "
          f"{'PASSED' if ok else 'FAILED'}")
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
