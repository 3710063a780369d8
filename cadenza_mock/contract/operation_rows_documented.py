"""The operations Cadenza documents that the mock does not emulate yet, one line each.

Each line is that operation's one declaration (method, path, the platform's operationId
and summary): it is routed (a wrong method is the usual 405), listed in the OpenAPI
document with its 501, known to strict mode and the near-miss hints (no hints: its
vocabulary is not declared), and answers NOT_EMULATED (501) in the envelope, naming the
operation, unless a test stubs it (`mock.stub(...)`, `POST /__admin/stubs`).

Emulating one: take its line out of this table and write its full row in
`operation_rows_api.py` (docs/contributing/add-endpoint.md); the suite checks that every
operation of the platform's document is in exactly one of the two.
"""

from __future__ import annotations

from cadenza_mock.contract.operation_type import API_PREFIX, Operation

# The one handler every line here routes to (http/stubs_api.py).
NOT_EMULATED_HANDLER = "stubs_api.not_emulated"
NOT_EMULATED_TAG = "not emulated"


def _documented(method: str, path: str, operation_id: str, summary: str) -> Operation:
    return Operation(
        method,
        f"{API_PREFIX}/{path}",
        NOT_EMULATED_HANDLER,
        operation_id,
        summary,
        NOT_EMULATED_TAG,
        emulated=False,
    )


D = _documented
DOCUMENTED_OPERATIONS: tuple[Operation, ...] = (
    D("POST", "fermata/dealer/create", "fermataCreateDealer", "Create dealer"),
    D("GET", "fermata/dealer/get", "fermataGetDealer", "Get dealer"),
    D("GET", "fermata/dealer/list", "fermataListDealers", "List dealers"),
    D("POST", "fermata/dealer/pause", "fermataPauseDealer", "Pause dealer"),
    D("POST", "fermata/dealer/resume", "fermataResumeDealer", "Resume dealer"),
    D("POST", "fermata/dealer/archive", "fermataArchiveDealer", "Archive dealer"),
    D("POST", "fermata/dealer/link", "fermataLinkDealer", "Link exchange account to dealer"),
    D(
        "POST",
        "fermata/dealer/unlink",
        "fermataUnlinkDealer",
        "Unlink exchange account from dealer",
    ),
    D("POST", "fermata/wallet/create", "fermataCreateWallet", "Create wallet"),
    D("GET", "fermata/wallet/get", "fermataGetWallet", "Get wallet"),
    D("GET", "fermata/wallet/list", "fermataListWallets", "List wallets"),
    D("POST", "fermata/wallet/transfer", "fermataTransferWallet", "Transfer between wallets"),
    D("POST", "fermata/wallet/freeze", "fermataFreezeWallet", "Freeze wallet"),
    D("POST", "fermata/wallet/unfreeze", "fermataUnfreezeWallet", "Unfreeze wallet"),
    D("POST", "fermata/wallet/close", "fermataCloseWallet", "Close wallet"),
)
del D

# The platform document's RpcMethod commands and queries the mock does not answer (the
# RPC side of the rows above): a call gets NOT_EMULATED in its result, naming the method,
# instead of the protocol's "method not found", so a client sees Cadenza has it.
NOT_EMULATED_RPC: frozenset[str] = frozenset(
    (
        "command.trading_account.create",
        "command.trading_account.save",
        "command.trading_account.delete",
        "command.trading_account.validate",
        "command.credential.save",
        "command.trade_order.save",
        "command.portfolio.save",
        "command.instrument.save",
        "command.security.save",
        "command.fermata.dealer.link",
        "command.fermata.dealer.unlink",
        "command.fermata.wallet.create",
        "query.fermata.wallet.list",
        "command.fermata.wallet.transfer",
        "command.fermata.wallet.freeze",
        "command.fermata.wallet.unfreeze",
        "command.fermata.wallet.close",
        "command.orderbook.save",
        "command.kline.save",
        "command.ticker.save",
        "command.subscription.create",
        "query.subscription.list",
        "command.subscription.mc.create",
    )
)
