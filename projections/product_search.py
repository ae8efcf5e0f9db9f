"""Read model of product search (schema ``rm_product_search``): one row per product with its
weighted text document, its categories with their ancestors, its attribute pairs, its SKUs and
whether any of them is available somewhere; beside it the category tree, the stock per
(SKU, location), the word lexicon for typo tolerance and the pricing rules. Folded from the
product, category, inventory and pricing-rule events; the query is
``projections/product_search_query.py``, the words ``projections/search_text.py``.

A batch is folded in memory (products, categories, stock deltas, rules) and written once:
each touched product's row is rewritten whole, then ``in_stock`` is recomputed for the touched
products and for every product owning a SKU whose stock moved (one statement), and the words
the lexicon has not seen are added with their deletions.

What an answer may depend on is counted in ``generation``, for the API's answer cache
(``product_search_query``): ``content`` moves with each batch that changed a category or a
rule (any answer may change: the cache empties); ``products`` with each batch that changed some
product's row (its content, or its ``in_stock`` flipping), and ``product_changes`` keeps, per
such batch and product, its row before and after (the answers that held it before or hold it
after change, and ``search_answers`` patches them: the row before leaving their sets, the row
after entering). A stock movement writes a product row only when it flips, so a stream of
reservations that leave stock available moves neither."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.types.json import Jsonb

from domain.category.events import CategoryCreated
from domain.money import minor_unit
from domain.pricing.events import PRICING_RULE_EVENTS
from domain.product.events import PRODUCT_EVENTS
from eventstore.recorded import RecordedEvent
from projections import search_text as text
from projections.base import Projection
from projections.search_facets import COMMENTS as FACET_COMMENTS
from projections.search_facets import DDL as FACET_DDL
from projections.search_facets import FacetDeltas, recount

NAME = "product_search"
#: Product generations whose changes are kept (``product_changes``).
CHANGES_KEPT = 1_000
#: Products a batch may change and log; a batch changing more (a catch-up, a bulk import)
#: moves the content generation instead, and the answers' caches empty: testing each of
#: their answers against that many products would cost more than searching again.
CHANGES_LOGGED = 200
_STOCK_TOPICS = tuple(
    f"inventory.{n}"
    for n in (
        "StockReceived",
        "StockAdjusted",
        "StockTransferred",
        "StockReserved",
        "ReservationReleased",
        "ReservationExpired",
        "StockCommitted",
    )
)
_PRODUCT_COLUMNS = (
    "id, sku, name, description, brand, status, base_amount, currency, price_scale, "
    "category_ids, category_paths, attributes, attr_pairs, skus, variants, created_at, "
    "version, document"
)


def _scale(currency: str | None) -> int | None:
    return None if currency is None else -minor_unit(currency).as_tuple().exponent


def _new_product(e: RecordedEvent) -> dict[str, Any]:
    d = e.data
    price = d.get("price")
    return {
        "id": e.stream_id,
        "sku": d["sku"],
        "name": d["name"],
        "description": d.get("description") or "",
        "brand": d.get("brand"),
        "status": "draft",
        "base_amount": price["amount"] if price else None,
        "currency": price["currency"] if price else None,
        "category_ids": [UUID(str(c)) for c in d.get("category_ids") or []],
        "attributes": d.get("attributes") or {},
        "variants": [],
        "created_at": e.meta.occurred_at,
        "version": e.version,
    }


def _evolve(doc: dict[str, Any], e: RecordedEvent) -> None:
    d, name = e.data, e.name
    if name == "ProductDetailsChanged":
        for change in d["changes"]:
            if change["field"] in ("name", "description", "brand", "attributes"):
                doc[change["field"]] = change["new"]
        doc["description"] = doc["description"] or ""
        doc["attributes"] = doc["attributes"] or {}
    elif name == "PriceChanged":
        doc["base_amount"], doc["currency"] = d["new"]["amount"], d["new"]["currency"]
    elif name == "VariantAdded":
        doc["variants"] = [*doc["variants"], {"sku": d["sku"], "active": True}]
    elif name == "VariantDeactivated":
        doc["variants"] = [
            {**v, "active": False} if v["sku"] == d["sku"] else v for v in doc["variants"]
        ]
    elif name == "CategoryAssigned":
        gained = UUID(str(d["category_id"]))
        if gained not in doc["category_ids"]:
            doc["category_ids"] = [*doc["category_ids"], gained]
    elif name == "CategoryUnassigned":
        gone = UUID(str(d["category_id"]))
        doc["category_ids"] = [c for c in doc["category_ids"] if c != gone]
    elif name == "LifecycleStatusChanged":
        doc["status"] = d["new_status"]
    doc["version"] = e.version


def _derived(doc: dict[str, Any], paths: dict[UUID, list[UUID]]) -> None:
    """The columns computed from the folded fields: document, pairs, SKUs, category paths."""
    name_words = text.words(doc["name"])
    desc_words = text.words(doc["description"]) + text.words(doc["brand"])
    attr_words = [w for v in text.attribute_values(doc["attributes"]) for w in text.words(v)]
    doc["document"] = text.tsvector_literal(
        [("A", name_words), ("B", desc_words), ("C", attr_words)]
    )
    doc["words"] = {*name_words, *desc_words, *attr_words}
    doc["attr_pairs"] = text.attribute_pairs(doc["attributes"])
    doc["skus"] = [doc["sku"], *(v["sku"] for v in doc["variants"] if v["active"])]
    seen: list[UUID] = []
    for c in doc["category_ids"]:
        for a in paths.get(c, [c]):
            if a not in seen:
                seen.append(a)
    doc["category_paths"] = sorted(seen)
    doc["price_scale"] = _scale(doc["currency"])


class ProductSearchView(Projection):
    name = NAME
    topics = (
        *(cls.stored_name() for cls in PRODUCT_EVENTS),
        CategoryCreated.stored_name(),
        *_STOCK_TOPICS,
        *(cls.stored_name() for cls in PRICING_RULE_EVENTS),
    )
    ddl = (
        """
    CREATE TABLE {schema}.products (
        id uuid PRIMARY KEY,
        sku text NOT NULL,
        name text NOT NULL,
        description text NOT NULL,
        brand text,
        status text NOT NULL,
        base_amount numeric,
        currency text,
        price_scale int,
        category_ids uuid[] NOT NULL,
        category_paths uuid[] NOT NULL,
        attributes jsonb NOT NULL,
        attr_pairs text[] NOT NULL,
        skus text[] NOT NULL,
        variants jsonb NOT NULL,
        in_stock boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        version bigint NOT NULL,
        document tsvector NOT NULL
    );
    CREATE INDEX ON {schema}.products USING gin (document) WHERE status = 'active';
    CREATE INDEX ON {schema}.products USING gin (category_paths) WHERE status = 'active';
    CREATE INDEX ON {schema}.products USING gin (attr_pairs) WHERE status = 'active';
    CREATE INDEX ON {schema}.products USING gin (skus);
    CREATE INDEX ON {schema}.products (created_at DESC, id) WHERE status = 'active';
    CREATE INDEX ON {schema}.products (base_amount, id) WHERE status = 'active';
    CREATE INDEX ON {schema}.products USING gin (lower(name) gin_trgm_ops)
        WHERE status = 'active';
    CREATE INDEX ON {schema}.products USING gin (category_ids);
    CREATE TABLE {schema}.categories (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text NOT NULL,
        parent_id uuid,
        path uuid[] NOT NULL
    );
    CREATE INDEX ON {schema}.categories USING gin (lower(name) gin_trgm_ops);
    CREATE TABLE {schema}.stock (
        sku text NOT NULL,
        location text NOT NULL,
        on_hand int NOT NULL,
        reserved int NOT NULL,
        PRIMARY KEY (sku, location)
    );
    CREATE TABLE {schema}.lexicon (
        variant text NOT NULL,
        word text NOT NULL,
        PRIMARY KEY (variant, word)
    );
    CREATE TABLE {schema}.words (word text PRIMARY KEY);
    CREATE TABLE {schema}.rules (
        id uuid PRIMARY KEY,
        rule_type text NOT NULL,
        active boolean NOT NULL,
        definition jsonb NOT NULL,
        version bigint NOT NULL
    );
    CREATE TABLE {schema}.generation (content bigint NOT NULL, products bigint NOT NULL);
    INSERT INTO {schema}.generation VALUES (0, 0);
    CREATE TABLE {schema}.product_changes (
        generation bigint,
        product_id uuid NOT NULL,
        content boolean NOT NULL,
        before {schema}.products,
        after {schema}.products
    );
    CREATE INDEX ON {schema}.product_changes (generation);
    """
        + FACET_DDL
    )
    comments = {
        "products": "One row per product as search sees it (every status; queries keep active).",
        "products.id": "The product's stream id.",
        "products.sku": "The product's own SKU.",
        "products.name": "Display name (weight A of the document).",
        "products.description": "Description (weight B, with the brand).",
        "products.brand": "Brand, if given.",
        "products.status": "Lifecycle status; search answers active products only.",
        "products.base_amount": "The product's own price (before pricing rules); NULL unpriced.",
        "products.currency": "ISO 4217 currency of base_amount.",
        "products.price_scale": "Decimal places of the currency's minor unit (rule rounding).",
        "products.category_ids": "Categories it is assigned to.",
        "products.category_paths": "Those categories and all their ancestors (filter, facet).",
        "products.attributes": "Attributes as given (JSON object).",
        "products.attr_pairs": "name=value per attribute value (filter attr.<name>, facet).",
        "products.skus": "Its own SKU and its active variants' SKUs.",
        "products.variants": "Variants seen: SKU and whether still active (JSON array).",
        "products.in_stock": "Whether one of skus has available > 0 at some location.",
        "products.created_at": "When it was created (business time; sort newest).",
        "products.version": "Version of the product's stream this row reflects.",
        "products.document": "Words of name (A), description and brand (B), attributes (C).",
        "categories": "The category tree, each category with its path from the root.",
        "categories.id": "The category's stream id.",
        "categories.name": "Display name (suggestions).",
        "categories.slug": "Unique slug.",
        "categories.parent_id": "Parent category (NULL at a root).",
        "categories.path": "Its ancestors from the root, then itself.",
        "stock": "Units per (SKU, location), from the inventory events.",
        "stock.sku": "The stock-keeping unit.",
        "stock.location": "Location code.",
        "stock.on_hand": "Units present.",
        "stock.reserved": "Units held by reservations; available = on_hand - reserved.",
        "lexicon": "Each word of any product and each one-deletion of it (typo tolerance).",
        "lexicon.variant": "The word, or the word with one character deleted.",
        "lexicon.word": "A word some product's document holds or held.",
        "words": "Every word the lexicon holds, once.",
        "words.word": "The word.",
        "rules": "Pricing rules as defined by their events (search prices with them).",
        "rules.id": "The rule's stream id.",
        "rules.rule_type": "tiered, segment, geographic, time_based or cost_plus.",
        "rules.active": "False once deactivated.",
        "rules.definition": "name, scope, config, priority, valid_from, valid_to (JSON).",
        "rules.version": "Version of the rule's stream this row reflects.",
        "generation": "One row: what moves when a search's answer may change.",
        "generation.content": "Batches so far that changed a category or a rule.",
        "generation.products": "Batches so far that changed some product's row.",
        "product_changes": "The products each recent product generation changed (the last 1,000).",
        "product_changes.generation": "The product generation (NULL while its batch runs).",
        "product_changes.product_id": "The product whose row changed.",
        "product_changes.content": "Whether more than its in_stock changed.",
        "product_changes.before": "Its row before the batch (NULL: it did not exist).",
        "product_changes.after": "Its row after the batch.",
        **FACET_COMMENTS,
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        s = sql.Identifier(schema)
        products = [e for e in events if e.stream_type == "product"]
        categories = [e for e in events if e.stream_type == "category"]
        stock = [e for e in events if e.stream_type == "inventory"]
        rules = [e for e in events if e.stream_type == "pricing_rule"]
        facets = FacetDeltas()
        if categories:
            self._categories(cur, s, categories, facets)
        # at most CHANGES_LOGGED products changed by this batch's product events: log them
        log = len({e.stream_id for e in products}) <= CHANGES_LOGGED
        touched = self._products(cur, s, products, log, facets) if products else set()
        moved = self._stock(cur, s, stock) if stock else set()
        if rules:
            self._rules(cur, s, rules)
        flips = 0
        if touched or moved:
            # only the rows whose answer changes are written: a reservation that leaves stock
            # available rewrites nothing and leaves the generation where it was; a flipped
            # product not changed otherwise is logged with its row before as after but for
            # in_stock
            cur.execute(
                sql.SQL(
                    "WITH f AS (UPDATE {0}.products p SET in_stock = NOT p.in_stock "
                    # one id list (an OR of the two conditions would scan every product)
                    "WHERE p.id = ANY(%s::uuid[] || ARRAY(SELECT o.id FROM {0}.products o "
                    "WHERE o.skus && %s::text[])) AND p.in_stock <> EXISTS (SELECT 1 FROM "
                    "{0}.stock t WHERE t.sku = ANY(p.skus) AND t.on_hand - t.reserved > 0) "
                    "RETURNING p AS row), "
                    "logged AS (INSERT INTO {0}.product_changes (product_id, content, before) "
                    "SELECT (f.row).id, false, jsonb_populate_record(f.row, "
                    "jsonb_build_object('in_stock', NOT (f.row).in_stock)) FROM f "
                    "WHERE %s AND NOT (f.row).id = ANY(%s::uuid[]) "
                    "AND (SELECT count(*) FROM f) <= %s) "
                    "SELECT (f.row).status, (f.row).in_stock, (f.row).category_paths, "
                    "(f.row).attr_pairs FROM f"
                ).format(s),
                (list(touched), list(moved), log, list(touched), CHANGES_LOGGED - len(touched)),
            )
            flipped = cur.fetchall()
            flips = len(flipped)
            for r in flipped:
                if r["status"] == "active":
                    facets.stock(r["category_paths"], r["attr_pairs"], 1 if r["in_stock"] else -1)
        facets.write(cur, s)
        changed = bool(touched) or flips > 0
        if changed and (not log or len(touched) + flips > CHANGES_LOGGED):
            # too many to log (some may be already): the caches empty instead
            cur.execute(
                sql.SQL("DELETE FROM {}.product_changes WHERE generation IS NULL").format(s)
            )
            self._generation(cur, s, True, False)
        else:
            self._generation(cur, s, bool(categories or rules), changed)

    @staticmethod
    def _generation(cur: Cursor, s: sql.Identifier, content: bool, products: bool) -> None:
        """Move the content generation when a category or rule changed, and the product
        generation when some product's row changed, stamping this batch's
        ``product_changes`` with it and their rows after (``CHANGES_KEPT`` generations
        kept)."""
        if not (content or products):
            return
        cur.execute(
            sql.SQL(
                "WITH g AS (UPDATE {0}.generation SET content = content + %s, "
                "products = products + %s RETURNING products), "
                "stamped AS (UPDATE {0}.product_changes c SET generation = g.products, after = p "
                "FROM g, {0}.products p WHERE c.generation IS NULL AND p.id = c.product_id), "
                "gone AS (DELETE FROM {0}.product_changes c USING g "
                "WHERE c.generation <= g.products - %s) "
                "SELECT 1"
            ).format(s),
            (int(content), int(products), CHANGES_KEPT),
        )

    def _categories(
        self, cur: Cursor, s: sql.Identifier, events: list[RecordedEvent], facets: FacetDeltas
    ) -> None:
        parents = {UUID(str(e.data["parent_id"])) for e in events if e.data.get("parent_id")}
        cur.execute(
            sql.SQL("SELECT id, path FROM {}.categories WHERE id = ANY(%s)").format(s),
            (list(parents),),
        )
        paths: dict[UUID, list[UUID]] = {r["id"]: r["path"] for r in cur.fetchall()}
        rows = []
        for e in events:
            d = e.data
            cid = UUID(str(d["category_id"]))
            parent = UUID(str(d["parent_id"])) if d.get("parent_id") else None
            paths[cid] = [*(paths.get(parent, [parent]) if parent else []), cid]
            rows.append((cid, d["name"], d["slug"], parent, paths[cid]))
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.categories VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
            ).format(s),
            rows,
        )
        # a product that named a category before the category's own event: its paths now
        cur.execute(
            sql.SQL(
                "WITH o AS (SELECT id, category_paths FROM {0}.products "
                "WHERE category_ids && %s::uuid[]) "
                "UPDATE {0}.products p SET category_paths = (SELECT coalesce(array_agg(DISTINCT "
                "a ORDER BY a), '{{}}') FROM unnest(p.category_ids) c LEFT JOIN {0}.categories k "
                "ON k.id = c, unnest(coalesce(k.path, ARRAY[c])) a) "
                "FROM o WHERE p.id = o.id "
                "RETURNING p.status, p.in_stock, o.category_paths AS before, "
                "p.category_paths AS after, p.attr_pairs"
            ).format(s),
            ([r[0] for r in rows],),
        )
        for r in cur.fetchall():
            facets.row(r["status"], r["in_stock"], r["before"], r["attr_pairs"], -1)
            facets.row(r["status"], r["in_stock"], r["after"], r["attr_pairs"], 1)

    def _products(
        self,
        cur: Cursor,
        s: sql.Identifier,
        events: list[RecordedEvent],
        log: bool,
        facets: FacetDeltas,
    ) -> set[UUID]:
        """Fold ``events`` into the products' rows; the ids of the rows changed, each logged
        with its row before in ``product_changes`` when ``log``, and counted in ``facets``
        (its row before out, after in)."""
        ids = list({e.stream_id for e in events})
        cur.execute(
            sql.SQL(
                "SELECT id, sku, name, description, brand, status, base_amount::text AS "
                "base_amount, currency, category_ids, attributes, variants, created_at, version, "
                "in_stock, category_paths, attr_pairs "
                "FROM {}.products WHERE id = ANY(%s)"
            ).format(s),
            (ids,),
        )
        docs = {r["id"]: dict(r) for r in cur.fetchall()}
        before = {
            i: (d["status"], d["in_stock"], d["category_paths"], d["attr_pairs"])
            for i, d in docs.items()
        }
        touched: dict[UUID, dict[str, Any]] = {}
        for e in events:
            doc = docs.get(e.stream_id)
            if e.name == "ProductCreated":
                if doc is None:
                    docs[e.stream_id] = touched[e.stream_id] = _new_product(e)
                continue
            if doc is None or e.version <= doc["version"]:
                continue
            _evolve(doc, e)
            touched[e.stream_id] = doc
        if not touched:
            return set()
        wanted = list({c for doc in touched.values() for c in doc["category_ids"]})
        cur.execute(
            sql.SQL("SELECT id, path FROM {}.categories WHERE id = ANY(%s)").format(s), (wanted,)
        )
        paths = {r["id"]: r["path"] for r in cur.fetchall()}
        for doc in touched.values():
            _derived(doc, paths)
        # their rows before this batch (none for a new one), stamped in ``_generation``
        if log:
            cur.execute(
                sql.SQL(
                    "INSERT INTO {0}.product_changes (product_id, content, before) "
                    "SELECT t.id, true, CASE WHEN p.id IS NULL THEN NULL ELSE p END "
                    "FROM unnest(%s::uuid[]) t(id) "
                    "LEFT JOIN {0}.products p ON p.id = t.id"
                ).format(s),
                (list(touched),),
            )
        names = [c.strip() for c in _PRODUCT_COLUMNS.split(",")]
        jsonb = ("attributes", "variants")
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in names[1:]
        )
        values = sql.SQL(", ").join(
            sql.SQL("%s::tsvector") if n == "document" else sql.Placeholder() for n in names
        )
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.products ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}"
            ).format(s, sql.SQL(_PRODUCT_COLUMNS), values, updates),
            [
                tuple(Jsonb(doc[n]) if n in jsonb else doc[n] for n in names)
                for doc in touched.values()
            ],
        )
        for i, doc in touched.items():
            was = before.get(i)
            if was is not None:
                facets.row(*was, -1)
            in_stock = was is not None and was[1]  # kept by the upsert; the flips follow
            facets.row(doc["status"], in_stock, doc["category_paths"], doc["attr_pairs"], 1)
        self._lexicon(cur, s, {w for doc in touched.values() for w in doc["words"]})
        return set(touched)

    def _lexicon(self, cur: Cursor, s: sql.Identifier, words: set[str]) -> None:
        if not words:
            return
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.words SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING "
                "RETURNING word"
            ).format(s),
            (sorted(words),),
        )
        new = [r["word"] for r in cur.fetchall()]
        if new:
            pairs = [(v, w) for w in new for v in text.deletions(w)]
            cur.execute(
                sql.SQL(
                    "INSERT INTO {}.lexicon SELECT * FROM unnest(%s::text[], %s::text[]) "
                    "ON CONFLICT DO NOTHING"
                ).format(s),
                ([p[0] for p in pairs], [p[1] for p in pairs]),
            )

    def _stock(self, cur: Cursor, s: sql.Identifier, events: list[RecordedEvent]) -> set[str]:
        deltas: dict[tuple[str, str], list[int]] = {}

        def at(sku: str, location: str) -> list[int]:
            return deltas.setdefault((sku, location), [0, 0])

        for e in events:
            d, name = e.data, e.name
            if name == "StockTransferred":
                at(d["sku"], d["from_location"])[0] -= d["quantity"]
                at(d["sku"], d["to_location"])[0] += d["quantity"]
            elif name == "StockReceived":
                at(d["sku"], d["location"])[0] += d["quantity"]
            elif name == "StockAdjusted":
                at(d["sku"], d["location"])[0] += d["delta"]
            elif name == "StockReserved":
                at(d["sku"], d["location"])[1] += d["quantity"]
            elif name in ("ReservationReleased", "ReservationExpired"):
                at(d["sku"], d["location"])[1] -= d["quantity"]
            elif name == "StockCommitted":
                change = at(d["sku"], d["location"])
                change[0] -= d["quantity"]
                change[1] -= d["quantity"]
        keys = list(deltas)
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.stock AS t SELECT * FROM unnest(%s::text[], %s::text[], "
                "%s::int[], %s::int[]) ON CONFLICT (sku, location) DO UPDATE SET "
                "on_hand = t.on_hand + excluded.on_hand, reserved = t.reserved + excluded.reserved"
            ).format(s),
            (
                [k[0] for k in keys],
                [k[1] for k in keys],
                [deltas[k][0] for k in keys],
                [deltas[k][1] for k in keys],
            ),
        )
        return {k[0] for k in keys}

    def _rules(self, cur: Cursor, s: sql.Identifier, events: list[RecordedEvent]) -> None:
        for e in events:
            d = e.data
            if e.name == "PricingRuleDeactivated":
                cur.execute(
                    sql.SQL(
                        "UPDATE {}.rules SET active = false, version = %s "
                        "WHERE id = %s AND version < %s"
                    ).format(s),
                    (e.version, e.stream_id, e.version),
                )
                continue
            definition = {
                k: d.get(k)
                for k in ("name", "scope", "config", "priority", "valid_from", "valid_to")
            }
            cur.execute(
                sql.SQL(
                    "INSERT INTO {}.rules AS r VALUES (%s, %s, true, %s, %s) ON CONFLICT (id) "
                    "DO UPDATE SET definition = excluded.definition, version = excluded.version "
                    "WHERE r.version < excluded.version"
                ).format(s),
                (e.stream_id, d.get("rule_type", ""), Jsonb(definition), e.version),
            )

    def compare_key(self) -> dict[str, str]:
        return {
            "products": "id",
            "categories": "id",
            "stock": "sku, location",
            "lexicon": "variant, word",
            "words": "word",
            "rules": "id",
            "category_counts": "scope, category",
            "pair_counts": "scope, pair",
        }

    def upgrade(self, cur: Cursor, schema: str) -> None:
        """A schema from before the kept facet counts gets them, counted from its products."""
        found = cur.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'category_counts'",
            (schema,),
        ).fetchone()
        if found is None:
            s = sql.Identifier(schema)
            cur.execute(FACET_DDL.replace("{schema}", s.as_string(cur)))
            recount(cur, s)
