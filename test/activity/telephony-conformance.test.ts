// One conformance suite for every Telephony adapter: Twilio's REST adapter (the official
// SDK) against a local stand-in replaying Twilio's documented exchanges, the fake, and the
// fallback chain (over the fake; over Twilio behind a gated first link). Then Twilio's
// request shape and error mapping, and the fallback's one-link rule for writes.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, toFailure } from '../../activities/errors';
import type { ProviderErrorKind } from '../../contracts/providers';
import type { FallbackGate } from '../../providers/fallback';
import { ProviderError } from '../../providers/provider-error';
import { FakeTelephony } from '../../providers/telephony/fake';
import { FallbackTelephony } from '../../providers/telephony/fallback';
import type {
  Telephony,
  TransferRequest,
  WarmTransferRequest,
} from '../../providers/telephony/port';
import { TwilioTelephony } from '../../providers/telephony/twilio';
import { TwilioRestReplayServer } from '../../testing/twilio-rest-replay';
import { newCallSid } from '../../testing/calls';
import { rejection } from '../helpers/rejection';

const CALLER = '+15550100001';
const OTHER_CALLER = '+15550100009';
const LINE = '+15550009999';
const QUEUE = '+15550002222';

let keys = 0;
const key = (what: string) => `conformance-${process.pid}-${++keys}:${what}`;

const transferReq = (over: Partial<TransferRequest> = {}): TransferRequest => ({
  to: QUEUE,
  idempotencyKey: key('transfer'),
  say: 'Please hold.',
  ringTimeoutInS: 20,
  statusUrl: 'https://edge.example.com/v1/calls/dial-status',
  ...over,
});

interface Subject {
  telephony: Telephony;
  /** A call Twilio holds in progress. */
  addLiveCall(callSid: string): void;
  /** Transfers that reached the call (a replay is not one). */
  transfers(callSid: string): number;
  /** Messages and outbound calls made. */
  made(kind: 'sms' | 'callback'): number;
  /** The next request fails as the vendor's outage does. */
  failNext(kind: ProviderErrorKind): void;
  /** The id the network gave a warm transfer's conference (what its events carry). */
  conferenceSid(name: string): string;
  /** Where a warm transfer's briefing stands: the caller held, the agent's announcement. */
  briefing(name: string): { callerHeld: boolean; announced?: string };
}

const warmReq = (callSid: string, over: Partial<WarmTransferRequest> = {}): WarmTransferRequest => ({ to: QUEUE, from: LINE, conference: `handoff-${callSid}`, idempotencyKey: key('warm'), ringTimeoutInS: 20, agentStatusUrl: 'https://edge.example.com/v1/calls/agent-status', ...over }); // prettier-ignore

function conformance(name: string, setup: () => Promise<Subject>, teardown = async () => {}) {
  describe(`Telephony conformance: ${name}`, () => {
    let s: Subject;
    before(async () => {
      s = await setup();
    });
    after(teardown);

    it('transfers a live call once: a retry finds the first transfer', async () => {
      const callSid = newCallSid();
      s.addLiveCall(callSid);
      const req = transferReq();
      const firstTriedAt = new Date();
      const first = await s.telephony.transfer(callSid, req);
      const again = await s.telephony.transfer(callSid, req, { firstTriedAt });
      assert.equal(first.sid, callSid);
      assert.deepEqual(again, first);
      assert.equal(s.transfers(callSid), 1);
    });

    it('a call that is not there is a final error, not retried', async () => {
      s.addLiveCall(newCallSid()); // the fake knows only listed calls once any is listed
      const err = await rejection(s.telephony.transfer(newCallSid(), transferReq()));
      assert.ok(err instanceof ProviderError, String(err));
      // not_found from an adapter; a chain whose every link said so reports bad input.
      assert.ok(['not_found', 'bad_input'].includes(err.kind), err.kind);
      assert.equal(err.retryable, false);
      const failure = toFailure(err);
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.nonRetryable, true);
    });

    it('a warm transfer holds the caller and calls the agent once, retried or not', async () => {
      const callSid = newCallSid();
      s.addLiveCall(callSid);
      const before = s.made('callback');
      const req = warmReq(callSid);
      const firstTriedAt = new Date();
      const first = await s.telephony.warmTransfer(callSid, req);
      const again = await s.telephony.warmTransfer(callSid, req, { firstTriedAt });
      assert.match(first.sid, /^CA[0-9a-f]{32}$/);
      assert.notEqual(first.sid, callSid, 'the receipt is the agent leg');
      assert.equal(again.sid, first.sid);
      assert.equal(s.made('callback'), before + 1, 'one agent leg');
    });

    it('the agent is briefed while the caller holds, then the caller is taken off hold', async () => {
      const callSid = newCallSid();
      s.addLiveCall(callSid);
      const req = warmReq(callSid);
      await s.telephony.warmTransfer(callSid, req);
      const conference = s.conferenceSid(req.conference);
      const announceUrl = `https://edge.example.com/v1/calls/agent-summary?callSid=${callSid}`;
      assert.deepEqual(s.briefing(req.conference), { callerHeld: false });
      await s.telephony.briefAgent(conference, { announceUrl });
      assert.deepEqual(s.briefing(req.conference), { callerHeld: true, announced: announceUrl });
      await s.telephony.connectAgent(conference);
      assert.equal(s.briefing(req.conference).callerHeld, false);
    });

    it('says a last line and hangs up a live call', async () => {
      const callSid = newCallSid();
      s.addLiveCall(callSid);
      const receipt = await s.telephony.sayAndHangUp(callSid, { text: 'Goodbye.', idempotencyKey: key('bye') }); // prettier-ignore
      assert.equal(receipt.sid, callSid);
    });

    it('sends one text message per request: a retry finds the first', async () => {
      const before = s.made('sms');
      const req = {
        to: CALLER,
        from: LINE,
        body: 'We will call you back.',
        idempotencyKey: key('sms'),
      };
      const firstTriedAt = new Date();
      const first = await s.telephony.sendSms(req);
      const again = await s.telephony.sendSms(req, { firstTriedAt });
      assert.match(first.sid, /^SM[0-9a-f]{32}$/);
      assert.equal(again.sid, first.sid);
      assert.equal(s.made('sms'), before + 1);
      await s.telephony.sendSms({ ...req, body: 'A second text.', idempotencyKey: key('sms') });
      assert.equal(s.made('sms'), before + 2, 'a new request is a new message');
    });

    it('places one callback per request: a retry finds the first', async () => {
      const before = s.made('callback');
      const req = { to: CALLER, from: LINE, say: 'This is your callback.', connectTo: QUEUE, idempotencyKey: key('callback') }; // prettier-ignore
      const firstTriedAt = new Date();
      const first = await s.telephony.placeCallback(req);
      const again = await s.telephony.placeCallback(req, { firstTriedAt });
      assert.match(first.sid, /^CA[0-9a-f]{32}$/);
      assert.equal(again.sid, first.sid);
      assert.equal(s.made('callback'), before + 1);
    });

    it('an outage is a retryable unavailable; the retries land once', async () => {
      const before = s.made('callback');
      // Another caller: a callback to the same number moments ago would be taken for this one.
      const req = { to: OTHER_CALLER, from: LINE, say: 'Callback.', connectTo: QUEUE, idempotencyKey: key('callback') }; // prettier-ignore
      const firstTriedAt = new Date();
      s.failNext('unavailable');
      const err = await rejection(s.telephony.placeCallback(req));
      assert.ok(err instanceof ProviderError, String(err));
      assert.equal(err.kind, 'unavailable');
      assert.equal(err.retryable, true);
      assert.equal((toFailure(err) as ApplicationFailure).type, FailureType.ProviderUnavailable);
      await s.telephony.placeCallback(req, { firstTriedAt });
      await s.telephony.placeCallback(req, { firstTriedAt });
      assert.equal(s.made('callback'), before + 1);
    });
  });
}

function twilioSubject(server: TwilioRestReplayServer, telephony: Telephony): Subject {
  return {
    telephony,
    conferenceSid: (name) => server.participant(name, 'caller')!.conferenceSid,
    briefing: (name) => {
      const announced = server.participant(name, 'agent')?.announceUrl;
      return { callerHeld: server.participant(name, 'caller')!.hold, ...(announced && { announced }) }; // prettier-ignore
    },
    addLiveCall: (sid) => server.addLiveCall(sid),
    transfers: (sid) => server.redirects(sid).length,
    made: (kind) => (kind === 'sms' ? server.messages.size : server.createdCalls.length),
    failNext: (kind) =>
      server.fail(
        kind === 'rate_limited'
          ? { status: 429, code: 20429, message: 'Too Many Requests' }
          : { status: 503, code: 20503, message: 'Service Unavailable' },
      ),
  };
}

function fakeSubject(fake: FakeTelephony, telephony: Telephony = fake): Subject {
  return {
    telephony,
    conferenceSid: (name) => `CF-${name}`,
    briefing: (name) => {
      const last = fake.conferenceMoves.filter((m) => m.conferenceSid === `CF-${name}`).at(-1);
      if (last?.kind !== 'brief') return { callerHeld: false };
      return { callerHeld: true, ...(last.announceUrl && { announced: last.announceUrl }) };
    },
    addLiveCall: (sid) => fake.liveCalls.add(sid),
    transfers: (sid) => fake.of('transfer').filter((t) => t.callSid === sid).length,
    // Outbound calls: callbacks and warm transfers' agent legs alike.
    made: (kind) =>
      kind === 'sms' ? fake.of('sms').length : fake.of('callback').length + fake.of('warm').length,
    failNext: (kind) => fake.failures.failWith(kind, 1),
  };
}

const server = new TwilioRestReplayServer();
conformance(
  'twilio (replayed REST API)',
  async () => {
    await server.start();
    return twilioSubject(server, new TwilioTelephony(server.env));
  },
  () => server.close(),
);
conformance('fake', async () => fakeSubject(new FakeTelephony()));
conformance('fallback(fake)', async () => {
  const fake = new FakeTelephony();
  return fakeSubject(fake, new FallbackTelephony([{ provider: 'fake-telephony', port: fake }]));
});
const behindGate = new TwilioRestReplayServer();
conformance(
  'fallback(gated fake, twilio)',
  async () => {
    await behindGate.start();
    const gate: FallbackGate = {
      skipReason: (p) => (p === 'standby' ? 'circuit open' : undefined),
    };
    const chain = new FallbackTelephony(
      [
        { provider: 'standby', port: new FakeTelephony('standby') },
        { provider: 'twilio', port: new TwilioTelephony(behindGate.env) },
      ],
      gate,
    );
    return twilioSubject(behindGate, chain);
  },
  () => behindGate.close(),
);

describe('Twilio REST adapter: the wire', () => {
  const twilioServer = new TwilioRestReplayServer();
  let telephony: TwilioTelephony;
  before(async () => {
    await twilioServer.start();
    telephony = new TwilioTelephony(twilioServer.env);
  });
  after(() => twilioServer.close());

  it('a transfer redirects the call to <Say> then <Dial> to the queue', async () => {
    const callSid = newCallSid();
    twilioServer.addLiveCall(callSid);
    const req = transferReq({ ringTimeoutInS: 25 });
    await telephony.transfer(callSid, req);
    const sent = twilioServer.requests.at(-1)!;
    assert.equal(
      sent.path,
      `/2010-04-01/Accounts/${twilioServer.accountSid}/Calls/${callSid}.json`,
    );
    const twiml = twilioServer.calls.get(callSid)!.twiml!;
    assert.match(twiml, /<Say>Please hold\.<\/Say>/);
    assert.match(twiml, /<Dial [^>]*timeout="25"/);
    assert.match(twiml, /<Dial [^>]*action="https:\/\/edge\.example\.com\/v1\/calls\/dial-status"/);
    assert.match(twiml, /<Number>\+15550002222<\/Number><\/Dial>/);
  });

  it('a warm transfer: the caller waits in the conference, the agent dialled into it by label', async () => {
    const callSid = newCallSid();
    twilioServer.addLiveCall(callSid);
    const statusUrl = 'https://edge.example.com/v1/calls/agent-status?callSid=x';
    const leg = await telephony.warmTransfer(callSid, warmReq(callSid, { ringTimeoutInS: 25, agentStatusUrl: statusUrl })); // prettier-ignore
    const events = `statusCallback="${statusUrl}" statusCallbackMethod="POST" statusCallbackEvent="join announcement"`; // prettier-ignore
    assert.equal(twilioServer.calls.get(callSid)!.twiml, `<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference participantLabel="caller" startConferenceOnEnter="false" endConferenceOnExit="true" beep="false" ${events}>handoff-${callSid}</Conference></Dial></Response>`); // prettier-ignore
    const agent = twilioServer.calls.get(leg.sid)!;
    assert.deepEqual([agent.to, agent.from, agent.statusCallback], [QUEUE, LINE, statusUrl]);
    assert.equal(twilioServer.participant(`handoff-${callSid}`, 'agent')?.callSid, leg.sid);
    const sent = twilioServer.requests.slice(-2);
    assert.deepEqual(sent.map((r) => [r.method, r.path.split('/').slice(-3).join('/')]), [['POST', `${twilioServer.accountSid}/Calls/${callSid}.json`], ['POST', `Conferences/handoff-${callSid}/Participants.json`]], 'the hold, then the agent leg into the conference by its name'); // prettier-ignore
    const form = sent[1]!.form;
    assert.deepEqual([form.Label, form.Timeout, form.StartConferenceOnEnter, form.ConferenceStatusCallback], ['agent', '25', 'true', statusUrl]); // prettier-ignore
    assert.deepEqual(sent[1]!.lists.ConferenceStatusCallbackEvent, ['join', 'announcement']);
    assert.ok(
      !JSON.stringify(sent).includes('Ada'),
      'the summary is not sent with the dial: the edge announces it',
    );
  });

  it('a warm transfer whose agent-leg answer was lost: the retry finds the leg by its label, one ring', async () => {
    const callSid = newCallSid();
    twilioServer.addLiveCall(callSid);
    const req = warmReq(callSid);
    twilioServer.fail({ status: 503, code: 20503, message: 'Service Unavailable', afterActing: true, path: /Participants\.json$/ }); // prettier-ignore
    const firstTriedAt = new Date();
    const err = await rejection(telephony.warmTransfer(callSid, req));
    assert.ok(err instanceof ProviderError && err.retryable, String(err));
    const since = twilioServer.mark();
    const leg = await telephony.warmTransfer(callSid, req, { firstTriedAt });
    assert.equal(leg.sid, twilioServer.participant(req.conference, 'agent')?.callSid);
    assert.equal(twilioServer.creations('Participants', QUEUE).filter((r) => r.path.includes(callSid)).length, 2, 'asked twice'); // prettier-ignore
    assert.equal([...twilioServer.calls.values()].filter((c) => c.to === QUEUE && twilioServer.participants.some((p) => p.callSid === c.sid && p.conferenceSid === twilioServer.participant(req.conference, 'caller')?.conferenceSid)).length, 1, 'rung once'); // prettier-ignore
    const looked = twilioServer.requests.slice(since).map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`); // prettier-ignore
    assert.ok(
      looked.some((l) => /^GET .*Participants\/agent\.json$/.test(l)),
      looked.join(', '),
    );
  });

  it("two calls' warm transfers to the same queue at once each keep their own agent leg", async () => {
    const [a, b] = [newCallSid(), newCallSid()];
    twilioServer.addLiveCall(a);
    twilioServer.addLiveCall(b);
    const firstTriedAt = new Date();
    const legA = await telephony.warmTransfer(a, warmReq(a));
    const legB = await telephony.warmTransfer(b, warmReq(b));
    assert.notEqual(legA.sid, legB.sid);
    assert.equal((await telephony.warmTransfer(a, warmReq(a), { firstTriedAt })).sid, legA.sid);
    assert.equal((await telephony.warmTransfer(b, warmReq(b), { firstTriedAt })).sid, legB.sid);
  });

  it('a callback is Calls.create from the line to the caller, connecting to the queue', async () => {
    const receipt = await telephony.placeCallback({ to: CALLER, from: LINE, say: 'Hello again.', connectTo: QUEUE, idempotencyKey: key('cb') }); // prettier-ignore
    const call = twilioServer.calls.get(receipt.sid)!;
    assert.deepEqual([call.to, call.from], [CALLER, LINE]);
    assert.match(call.twiml!, /<Say>Hello again\.<\/Say><Dial><Number>\+15550002222<\/Number>/);
  });

  it('Twilio keeps no request keys: the same text asked twice, not as a retry, is sent twice', async () => {
    const req = { to: OTHER_CALLER, from: LINE, body: 'Sent twice.', idempotencyKey: key('twice') };
    await telephony.sendSms(req);
    await telephony.sendSms(req);
    assert.equal([...twilioServer.messages.values()].filter((m) => m.body === 'Sent twice.').length, 2); // prettier-ignore
  });

  it('a text whose answer was lost: the retry lists the texts, finds it, and sends none', async () => {
    const req = { to: OTHER_CALLER, from: LINE, body: 'Lost answer.', idempotencyKey: key('lost') };
    twilioServer.fail({ status: 503, code: 20503, message: 'Service Unavailable', afterActing: true }); // prettier-ignore
    const firstTriedAt = new Date();
    const err = await rejection(telephony.sendSms(req));
    assert.ok(err instanceof ProviderError && err.retryable, String(err));
    const receipt = await telephony.sendSms(req, { firstTriedAt });
    const sent = [...twilioServer.messages.values()].filter((m) => m.body === 'Lost answer.');
    assert.deepEqual(
      sent.map((m) => m.sid),
      [receipt.sid],
    );
    const looked = twilioServer.requests.at(-1)!;
    assert.deepEqual(
      [looked.method, looked.form.To, looked.form.From],
      ['GET', OTHER_CALLER, LINE],
    );
  });

  it('a retried transfer of a call whose dial has started does not redirect it again', async () => {
    const callSid = newCallSid();
    twilioServer.addLiveCall(callSid);
    const firstTriedAt = new Date();
    await telephony.transfer(callSid, transferReq());
    await telephony.transfer(callSid, transferReq(), { firstTriedAt });
    assert.equal(twilioServer.redirects(callSid).length, 1);
    const other = newCallSid();
    twilioServer.addLiveCall(other);
    await telephony.transfer(other, transferReq(), { firstTriedAt: new Date() });
    assert.equal(
      twilioServer.redirects(other).length,
      1,
      'a retry whose first try never landed redirects',
    );
  });

  it('a call Twilio does not know is not_found (404, Twilio 20404)', async () => {
    const err = await rejection(telephony.transfer(newCallSid(), transferReq()));
    assert.ok(err instanceof ProviderError);
    assert.deepEqual([err.kind, err.status], ['not_found', 404]);
    assert.match(err.message, /20404/);
  });

  it('a redirect of a call that has ended is bad_input (Twilio 21220), not retried', async () => {
    const callSid = newCallSid();
    twilioServer.addLiveCall(callSid);
    twilioServer.calls.get(callSid)!.status = 'completed';
    const err = await rejection(telephony.transfer(callSid, transferReq()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.kind, 'bad_input');
    assert.match(err.message, /21220/);
  });

  it('429 is rate_limited (retryable); wrong credentials are a 401, final', async () => {
    twilioServer.fail({ status: 429, code: 20429, message: 'Too Many Requests' });
    const limited = await rejection(telephony.sendSms({ to: CALLER, from: LINE, body: 'x', idempotencyKey: key('s') })); // prettier-ignore
    assert.ok(limited instanceof ProviderError);
    assert.deepEqual([limited.kind, limited.retryable], ['rate_limited', true]);
    const wrong = new TwilioTelephony({ ...twilioServer.env, TWILIO_AUTH_TOKEN: 'not-the-token' });
    const denied = await rejection(wrong.sendSms({ to: CALLER, from: LINE, body: 'x', idempotencyKey: key('s') })); // prettier-ignore
    assert.ok(denied instanceof ProviderError);
    assert.deepEqual([denied.kind, denied.retryable, denied.status], ['bad_input', false, 401]);
  });

  it('a stopped server is unavailable and retryable', async () => {
    const gone = new TwilioRestReplayServer();
    await gone.start();
    const env = gone.env;
    await gone.close();
    const err = await rejection(new TwilioTelephony(env).sendSms({ to: CALLER, from: LINE, body: 'x', idempotencyKey: key('s') })); // prettier-ignore
    assert.ok(err instanceof ProviderError, String(err));
    assert.deepEqual([err.kind, err.retryable], ['unavailable', true]);
  });

  it('refuses to start without credentials, naming the variables', () => {
    assert.throws(() => new TwilioTelephony({}), /TWILIO_ACCOUNT_SID \/ TWILIO_AUTH_TOKEN/);
  });
});

describe('FallbackTelephony: writes go to one carrier', () => {
  it('a failed first link is not followed by a second carrier (the try may have landed)', async () => {
    const first = new FakeTelephony('first');
    const second = new FakeTelephony('second');
    first.failures.failWith('unavailable', 1);
    const chain = new FallbackTelephony([
      { provider: 'first', port: first },
      { provider: 'second', port: second },
    ]);
    const err = await rejection(chain.sendSms({ to: CALLER, from: LINE, body: 'x', idempotencyKey: key('s') })); // prettier-ignore
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, true);
    assert.equal(second.failures.calls, 0);
  });
});
