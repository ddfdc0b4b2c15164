#!/usr/bin/python3
"""A partner system in Python, built from proto/ with protoc and grpc_python_plugin: it imports a
few offers, walks a search, and keeps a copy in sync with ListChanges, against a real
atable-server. Exits non-zero on any mismatch."""

import argparse
import os
import sys
import tempfile
import unittest

from atable_process import create_key, generate_stubs, start_server

ARGS = None


class PartnerClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        generate_stubs(ARGS.proto_dir, cls.tmp.name)
        global grpc, catalog_pb2, catalog_pb2_grpc
        import grpc
        from atable.v1 import catalog_pb2, catalog_pb2_grpc
        data = os.path.join(cls.tmp.name, "data")

        # The partner reads with a reader key; the producer writes its own offers with its key.
        cls.reader = [("authorization", "Bearer " + create_key(ARGS.server_binary, data, "--role", "reader"))]
        cls.producer = [("authorization", "Bearer " + create_key(ARGS.server_binary, data, "--role", "provider", "--provider", "py-prov"))]
        cls.server, address = start_server(ARGS.server_binary, data, os.path.join(cls.tmp.name, "server.log"))
        cls.channel = grpc.insecure_channel(address)
        cls.stub = catalog_pb2_grpc.CatalogStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.terminate()
        cls.server.wait(10)
        cls.tmp.cleanup()

    def test_import_search_and_sync(self):
        pb = catalog_pb2

        def records():
            yield pb.ImportRecord(provider=pb.Provider(
                id="py-prov", name="Ferme du Puy Mary", kind=pb.BUSINESS_KIND_PRODUCER,
                location={"latitude": 45.11, "longitude": 2.68}))
            for i in range(12):
                yield pb.ImportRecord(offer=pb.Offer(
                    id=f"py-offer-{i}", provider_id="py-prov", kind=pb.OFFER_KIND_ACTIVITY,
                    sub_kind=pb.OFFER_SUB_KIND_GASTRONOMY, title=f"Dégustation numéro {i}",
                    tags=["gastronomy", "cheese"],
                    prices=[pb.Price(min_amount_cents=1000 + i, max_amount_cents=2000,
                                     unit=pb.PRICE_UNIT_PER_PERSON)]))
            yield pb.ImportRecord(offer=pb.Offer(id="bad", provider_id="py-prov",
                                                        kind=pb.OFFER_KIND_ACTIVITY, title=""))

        batch = list(records())
        messages = [pb.ImportOffersRequest(records=batch[i:i + 5]) for i in range(0, len(batch), 5)]
        summary = self.stub.ImportOffers(iter(messages), timeout=30, metadata=self.producer)
        self.assertEqual(13, summary.created)
        self.assertEqual(1, summary.rejected)
        self.assertEqual("offer.title", summary.rejected_records[0].field)

        # Walk a search page by page.
        found, token = [], ""
        while True:
            page = self.stub.SearchOffers(pb.SearchOffersRequest(
                text="degustation", tags_all=["cheese"], sort=pb.SORT_ORDER_PRICE_ASCENDING,
                page_size=5, page_token=token), timeout=10, metadata=self.reader)
            found += [r.offer.id for r in page.results]
            token = page.next_page_token
            if not token:
                break
        self.assertEqual([f"py-offer-{i}" for i in range(12)], found)

        # A replica from the change feed, then one more change through a follow stream.
        replica = {}
        resume = ""
        for change in self.stub.ListChanges(pb.ListChangesRequest(), timeout=10, metadata=self.reader):
            if change.WhichOneof("entity") == "offer":
                if change.type == pb.CHANGE_TYPE_DELETE:
                    replica.pop(change.offer.id, None)
                else:
                    replica[change.offer.id] = change.offer.title
            resume = change.resume_token
        self.assertEqual(12, len(replica))
        with self.assertRaises(grpc.RpcError) as error:
            self.stub.DeleteOffer(pb.DeleteOfferRequest(id="py-offer-3"), timeout=10, metadata=self.reader)
        self.assertEqual(grpc.StatusCode.PERMISSION_DENIED, error.exception.code())
        self.stub.DeleteOffer(pb.DeleteOfferRequest(id="py-offer-3"), timeout=10, metadata=self.producer)
        stream = self.stub.ListChanges(pb.ListChangesRequest(resume_token=resume, follow=True), timeout=10,
                                       metadata=self.reader)
        change = next(stream)
        stream.cancel()
        self.assertEqual(pb.CHANGE_TYPE_DELETE, change.type)
        self.assertEqual("py-offer-3", change.offer.id)

        # Errors reach Python with their code and the field named.
        with self.assertRaises(grpc.RpcError) as error:
            self.stub.GetOffer(pb.GetOfferRequest(id="nope"), timeout=10, metadata=self.reader)
        self.assertEqual(grpc.StatusCode.NOT_FOUND, error.exception.code())
        with self.assertRaises(grpc.RpcError) as error:
            self.stub.GetOffer(pb.GetOfferRequest(id="py-offer-1"), timeout=10)
        self.assertEqual(grpc.StatusCode.UNAUTHENTICATED, error.exception.code())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-binary", required=True)
    parser.add_argument("--proto-dir", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest)
