// The demo page: sign up or log in, wallets kept live, a transfer, a deposit through a sandbox
// partner watched to completion, and the BTC-EUR market (book, trades, ticker, orders), all through
// the typed client. Plain DOM, no framework; served by the API at `/`.
import {
  CashierClient,
  CashierError,
  LiveState,
  logIn,
  logOut,
  MarketFeed,
  sessionTokens,
  signUp,
  type AnyFrame,
  type BalancePayload,
  type Login,
  type OrderBook,
  type OrderView,
  type WalletView,
} from '../src/index.js';

const url = location.origin;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const describeError = (error: unknown) =>
  error instanceof CashierError
    ? `${error.code}: ${error.message}${error.field ? ` (${error.field})` : ''}`
    : String(error);

function showResult(target: HTMLElement, ok: boolean, text: string): void {
  target.textContent = text;
  target.className = `result ${ok ? 'ok' : 'failed'}`;
}

/** Prepends a line to a log list, keeping the newest `keep`. */
function logLine(list: HTMLElement, text: string, keep = 50, className = ''): void {
  list.prepend(el('li', className ? { class: className } : {}, text));
  while (list.children.length > keep) list.lastElementChild?.remove();
}

const formValues = (form: HTMLFormElement) =>
  Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, typeof v === 'string' ? v.trim() : '']));

// --- market (public, before any login) ---

const market = new MarketFeed({ url });
market.watch('BTC-EUR');
let bookFrame = 0;

function renderBook(book: OrderBook): void {
  const { bids, asks } = book.top(10);
  const rows = (levels: [number, number][]) =>
    levels.map(([price, amount]) => el('tr', {}, el('td', {}, price.toFixed(2)), el('td', {}, amount.toFixed(8))));
  $('asks').replaceChildren(...rows([...asks].reverse()));
  $('bids').replaceChildren(...rows(bids));
  const state = market.state('BTC-EUR');
  $('book-status').textContent = state
    ? `· seq ${book.seq} · ${state.verified} checksums verified · ${state.resyncs} resyncs`
    : '';
}

market.on('book', (book) => {
  cancelAnimationFrame(bookFrame);
  bookFrame = requestAnimationFrame(() => renderBook(book));
});
market.on('trade', (trade) =>
  logLine(
    $('trades'),
    `${new Date(trade.timestamp).toLocaleTimeString()}  ${trade.side}  ${trade.amount.toFixed(8)} @ ${trade.price.toFixed(2)}`,
    30,
    trade.side,
  ),
);
market.on('tick', (tick) => {
  const value = (v: number | null) => (v === null ? '—' : v.toFixed(2));
  $('ticker').textContent =
    `last ${value(tick.last)} · bid ${value(tick.bid)} · ask ${value(tick.ask)} · ` +
    `24 h high ${value(tick.high)} low ${value(tick.low)} · volume ${tick.volume.toFixed(8)} BTC`;
});
market.on('resync', ({ reason }) => logLine($('trades'), `book out of step (${reason}): fetching it again`));
void market.connect().catch((error: unknown) => ($('book-status').textContent = `· ${describeError(error)}`));

// --- the signed-in user ---

interface Session {
  client: CashierClient;
  accessToken: () => string;
  stop: () => void;
}
let session: Session | undefined;

function renderWallets(wallets: Map<string, WalletRow>): void {
  const money = (currency: string, value: number) => value.toFixed(currency === 'BTC' ? 8 : 2);
  $('wallets').replaceChildren(
    ...[...wallets.values()].map((w) =>
      el(
        'tr',
        {},
        el('td', {}, w.currency),
        el('td', { 'data-testid': `balance-${w.currency}` }, money(w.currency, w.balance)),
        el('td', {}, money(w.currency, w.available_balance)),
        el('td', {}, money(w.currency, w.pending_debit)),
        el('td', { 'data-testid': `incoming-${w.currency}` }, money(w.currency, w.pending_credit)),
      ),
    ),
  );
}

type WalletRow = Pick<WalletView, 'currency' | 'balance' | 'available_balance' | 'pending_debit' | 'pending_credit'>;

/** A `balance` event replaces that wallet's amounts (a new wallet appears with its first one). */
function applyBalance(wallets: Map<string, WalletRow>, frame: AnyFrame): Map<string, WalletRow> {
  if (frame.event !== 'balance') return wallets;
  const b = frame.payload as BalancePayload;
  const next = new Map(wallets);
  next.set(b.currency, {
    currency: b.currency,
    balance: b.balance,
    available_balance: b.available_balance,
    pending_debit: b.pending_debit,
    pending_credit: b.pending_credit,
  });
  return next;
}

function applyOrder(orders: Map<string, OrderView>, frame: AnyFrame): Map<string, OrderView> {
  if (frame.event !== 'order') return orders;
  const order = frame.payload as OrderView;
  const next = new Map(orders);
  if (order.status === 'open' || order.status === 'partially_filled') next.set(order.id, order);
  else next.delete(order.id);
  return next;
}

function renderOrders(client: CashierClient, orders: Map<string, OrderView>): void {
  $('orders').replaceChildren(
    ...[...orders.values()].map((o) => {
      const cancel = el('button', { type: 'button' }, 'Cancel');
      cancel.addEventListener('click', () => {
        cancel.disabled = true;
        client.cancelOrder({ order_id: o.id }).catch((error: unknown) => {
          cancel.disabled = false;
          showResult($('order-result'), false, describeError(error));
        });
      });
      const price = o.price === null ? 'market' : o.price.toFixed(2);
      return el('li', {}, `${o.side} ${o.remaining.toFixed(8)} BTC @ ${price} (${o.status})`, cancel);
    }),
  );
}

function describeFrame(frame: AnyFrame): string {
  const p = frame.payload as Record<string, unknown>;
  const detail =
    frame.event === 'balance'
      ? `${String(p.currency)} ${String(p.balance)}${typeof p.pending_credit === 'number' && p.pending_credit > 0 ? `, ${p.pending_credit} incoming` : ''}`
      : frame.event === 'transfer_completed' || frame.event === 'transaction_completed'
        ? `${String(p.amount)} ${String(p.currency)} ${String(p.receipt_code)}`
        : frame.event === 'order'
          ? `${String(p.side)} ${String(p.status)}`
          : frame.event === 'payment'
            ? `${String(p.kind)} ${String(p.status)}`
            : '';
  return `#${frame.seq} ${frame.event} ${detail}`;
}

async function startSession(login: Login): Promise<void> {
  const tokens = sessionTokens(url, login);
  let accessToken = tokens.token;
  const client = new CashierClient({ url, ...tokens });
  client.on('token', (token) => (accessToken = token));
  const link = $('link');
  client.on('connected', () => {
    link.textContent = 'live';
    link.classList.add('online');
  });
  client.on('disconnected', () => {
    link.textContent = 'reconnecting…';
    link.classList.remove('online');
  });
  client.on('logout', ({ reason }) => endSession(`logged out by the server (${reason})`));
  client.on('reset', () => logLine($('activity'), 'history no longer retained: state read again'));
  client.on('frame', (frame) => logLine($('activity'), describeFrame(frame)));

  const wallets = new LiveState<Map<string, WalletRow>>(client, {
    load: async () => {
      const reply = await client.getAccounts();
      return { state: new Map(reply.accounts.map((a) => [a.currency, a])), asOfSeq: reply.as_of_seq };
    },
    apply: applyBalance,
  });
  wallets.on('change', renderWallets);
  const orders = new LiveState<Map<string, OrderView>>(client, {
    load: async () => {
      const reply = await client.getOrders({ status: 'open', limit: 50 });
      return { state: new Map(reply.orders.map((o) => [o.id, o])), asOfSeq: reply.as_of_seq };
    },
    apply: applyOrder,
  });
  orders.on('change', (state) => renderOrders(client, state));

  session = {
    client,
    accessToken: () => accessToken,
    stop: () => {
      wallets.stop();
      orders.stop();
      client.close();
    },
  };
  $('who').textContent = login.user.email;
  $('user-id').textContent = login.user.id;
  $('auth').hidden = true;
  $('session').hidden = false;
  $('account').hidden = false;
  $('trading').hidden = false;
  await client.connect();
  await Promise.all([wallets.start(), orders.start()]);
}

function endSession(message = ''): void {
  session?.stop();
  session = undefined;
  $('auth').hidden = false;
  $('session').hidden = true;
  $('account').hidden = true;
  $('trading').hidden = true;
  $('auth-error').textContent = message;
  for (const id of ['wallets', 'activity', 'deposit-status', 'orders']) $(id).replaceChildren();
}

// --- forms ---

$('auth-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const { submitter } = event;
  const action = submitter instanceof HTMLButtonElement ? submitter.value : 'login';
  const { email, password } = formValues(form);
  $('auth-error').textContent = '';
  void (async () => {
    try {
      if (action === 'signup') await signUp(url, { email, password });
      await startSession(await logIn(url, { email, password }));
    } catch (error) {
      endSession(describeError(error));
    }
  })();
});

$('logout').addEventListener('click', () => {
  const current = session;
  if (!current) return;
  void logOut(url, current.accessToken()).catch(() => undefined);
  endSession();
});

$('transfer-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const client = session?.client;
  if (!client) return;
  const { to, amount, currency } = formValues(event.target as HTMLFormElement);
  const result = $('transfer-result');
  client.transfer({ to_user_id: to, amount, currency }).then(
    (reply) =>
      showResult(
        result,
        true,
        `Sent ${reply.amount} ${reply.currency} (fee ${reply.fee}), receipt ${reply.receipt_code}`,
      ),
    (error: unknown) => showResult(result, false, describeError(error)),
  );
});

$('deposit-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const client = session?.client;
  if (!client) return;
  const { amount, route } = formValues(event.target as HTMLFormElement);
  const [currency, service] = route.split(' ');
  const list = $('deposit-status');
  void (async () => {
    try {
      const deposit = await client.depositRequest({ amount, currency, service });
      logLine(list, `${deposit.request_ref}: ${deposit.amount} ${deposit.currency} via ${deposit.partner_name}`);
      // The payment's own channel, from its first event: every status change, once, in order.
      const off = client.onEvent('payment', (payment, frame) => {
        if (frame.channel !== deposit.payment_id) return;
        logLine(list, `${deposit.request_ref}: ${payment.status}${payment.error ? ` (${payment.error})` : ''}`);
        if (payment.status !== 'pending' && payment.status !== 'sent_to_partner' && payment.status !== 'processing') {
          off();
          void client.leave(deposit.payment_id);
        }
      });
      await client.join(deposit.payment_id, { since: 0 });
    } catch (error) {
      logLine(list, describeError(error), 50, 'error');
    }
  })();
});

$('order-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const client = session?.client;
  if (!client) return;
  const { side, type, amount, price } = formValues(event.target as HTMLFormElement);
  const result = $('order-result');
  client
    .placeOrder({
      pair: 'BTC-EUR',
      side: side as 'buy' | 'sell',
      type: type as 'limit' | 'market',
      amount,
      ...(type === 'limit' ? { price } : {}),
    })
    .then(
      (order) => showResult(result, true, `Order ${order.status}: ${order.filled} of ${order.amount} BTC filled`),
      (error: unknown) => showResult(result, false, describeError(error)),
    );
});
