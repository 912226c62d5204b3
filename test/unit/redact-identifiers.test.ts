// Identifiers are never redacted: ids whose hex holds a Luhn-valid digit run (about one
// CallSid in a hundred) survive the text redactor, event redaction, the pino hooks and the
// Temporal runtime's log line — while the same card number said or written by a caller, in
// the same call, is still redacted (the positive control: these tests fail if redaction is
// switched off as well as if it mangles an id).
import assert from 'node:assert/strict';
import pino from 'pino';
import {
  EVENT_REGISTRY,
  EVENT_TYPES,
  EventCodec,
  eventId,
  FREE_TEXT_FIELDS,
} from '../../providers/events';
import { redactEventsText } from '../../conversation/safety/event-redaction';
import type { EventDraft } from '../../contracts/events';
import {
  hasSensitive,
  isIdentifierKey,
  luhnValid,
  pinoRedaction,
  redactDeep,
  redactLogFields,
  redactText,
} from '../../conversation/safety/redact';
import { formatRuntimeLogLine } from '../../workers/logging';
import { callWorkflowId } from '../../contracts/call';
import { linesSink } from '../../testing/log-sink';

const CARD = '4111111111111111';
/** A CallSid (CA + 32 hex) whose hex holds the Luhn-valid run 4111111111111111. */
const CALL_SID = `CAb${CARD}dca891d61dec888`;
const WORKFLOW_ID = callWorkflowId(CALL_SID);
const EVENT_ID = eventId({ workflow_id: WORKFLOW_ID, type: 'transcript.line', seq: 3 });
const SHA256 = `e3b0c44298fc1c149afbf4c8996fb924d${CARD}ae41e4649b934ca`;
const UUIDS = ['41111111-1111-1111-b111-1111111111c3', '41111111-1111-1111-1111-111111111111'];
/** A CallSid whose hex is 29 digits in a row: longer than any card number, still an id. */
const LONG_RUN_SID = `CA4${'1'.repeat(28)}dca`;
const IDS = [CALL_SID, WORKFLOW_ID, EVENT_ID, SHA256, ...UUIDS, LONG_RUN_SID];

/** How callers give the same card: written with spaces or dashes, spoken digit by digit. */
const SAID = [
  'my card is 4111 1111 1111 1111',
  'the number is 4111-1111-1111-1111 thanks',
  'four one one one one one one one one one one one one one one one',
  `use ${CARD} please`,
];

/** Some 13–19 digit window of the id's digits (dashes dropped) passes Luhn: a card. */
function holdsCardNumber(id: string): boolean {
  for (const run of id.replace(/-/g, '').match(/\d{13,}/g) ?? [])
    for (let len = 13; len <= 19; len += 1)
      for (let a = 0; a + len <= run.length; a += 1)
        if (luhnValid(run.slice(a, a + len))) return true;
  return false;
}

const logSink = () => {
  const lines: string[] = [];
  const sink = linesSink(lines);
  return { lines, log: pino({ ...pinoRedaction, level: 'info' }, sink) };
};

describe('redaction never mangles identifiers', () => {
  it('the ids are what broke: each holds a Luhn-valid run of 13–19 digits', () => {
    assert.equal(luhnValid(CARD), true);
    assert.equal(CALL_SID.length, 34);
    assert.match(CALL_SID, /^CA[0-9a-f]{32}$/);
    assert.match(LONG_RUN_SID, /^CA[0-9a-f]{32}$/);
    assert.match(SHA256, /^[0-9a-f]{64}$/);
    for (const id of IDS) assert.ok(holdsCardNumber(id), `${id} holds no Luhn-valid run`);
  });

  it('redactText keeps ids, alone and quoted in free text, and still redacts the card said', () => {
    for (const id of IDS) {
      assert.equal(redactText(id), id);
      const line = `workflow ${id} failed: caller said my card is 4111 1111 1111 1111`;
      assert.equal(redactText(line), `workflow ${id} failed: caller said my card is [card]`);
    }
    for (const said of SAID) {
      assert.match(redactText(said), /\[card\]/, said);
      assert.equal(hasSensitive(redactText(said)), false, said);
    }
    // A timestamp and an object key with the run are the system's too.
    const key = `recordings/${CALL_SID}.wav`;
    assert.equal(
      redactText(`${key} at 2026-11-24T10:11:12.123Z`),
      `${key} at 2026-11-24T10:11:12.123Z`,
    );
  });

  it('keywords beside an id still cover the numbers a caller gives after them', () => {
    assert.equal(redactText(`${CALL_SID}: my pin is 1234`), `${CALL_SID}: my pin is [pin]`);
    assert.equal(
      redactText(`${WORKFLOW_ID} cvv 321, card 4111-1111-1111-1111`),
      `${WORKFLOW_ID} cvv [cvv], card [card]`,
    );
    // Only the word glued to letters is an id: the card's groups before it stay a card.
    assert.equal(redactText('4111-1111-1111-1111-exp12'), '[card]-exp12');
  });

  it("events: ids, keys and timestamps intact, the caller's words redacted, the schema satisfied", () => {
    const base = {
      call_id: CALL_SID,
      workflow_id: WORKFLOW_ID,
      occurred_at: '2026-11-24T10:11:12.123Z',
    };
    const drafts: EventDraft[] = [
      ...SAID.map((text, i): EventDraft => ({
        ...base,
        type: 'transcript.line',
        seq: i + 1,
        data: {
          turn_id: i + 1,
          speaker: 'caller',
          text,
          intent: 'pay_bill',
          asr_provider: 'pocketsphinx',
        },
      })),
      {
        ...base,
        type: 'recording.completed',
        seq: 0,
        data: {
          bucket: 'switchboard-recordings',
          object_key: `recordings/${CALL_SID}.wav`,
          duration_ms: 1000,
          truncated: false,
        },
      },
      {
        ...base,
        type: 'call.ended',
        seq: 0,
        data: {
          disposition: 'resolved',
          intents: ['pay_bill'],
          turns: 4,
          duration_ms: 1000,
          fallbacks_used: [],
          recording_key: `recordings/${CALL_SID}.wav`,
          call_log_id: SHA256,
        },
      },
      {
        ...base,
        type: 'provider.fallback',
        seq: 1,
        data: {
          stage: 'asr',
          failed_provider: 'deepgram',
          reason: `caller said ${SAID[1]} on ${CALL_SID}`,
          served_by: 'pocketsphinx',
        },
      },
      {
        ...base,
        type: 'call.analyzed',
        workflow_id: `postcall-${CALL_SID}`,
        seq: 0,
        data: {
          summary: `The caller read out ${SAID[0]} and paid.`,
          disposition: 'resolved',
          qa_flags: [],
          summary_provider: 'template',
          transcription_provider: 'none',
          transcript_words: 12,
        },
      },
    ];
    const codec = new EventCodec();
    for (const [how, redacted] of [
      ['the catalogue’s free-text fields', redactEventsText(drafts)],
      ['redactDeep over the whole event', redactDeep(drafts)],
    ] as const) {
      assert.equal(redacted.length, drafts.length);
      for (const [i, e] of redacted.entries()) {
        const before = drafts[i]!;
        assert.equal(e.call_id, CALL_SID, how);
        assert.equal(e.workflow_id, before.workflow_id, how);
        assert.equal(e.occurred_at, before.occurred_at, how);
        // The schema refused a mangled call_id: the whole call's events were lost.
        const built = codec.build(e);
        assert.equal(built.id, eventId(before), how);
        const after = new Map(Object.entries(e.data));
        const free: readonly string[] = FREE_TEXT_FIELDS[before.type];
        for (const [field, was] of Object.entries(before.data)) {
          const now = after.get(field);
          if (free.includes(field))
            assert.equal(hasSensitive(String(now)), false, `${how}: ${e.type}.${field}`);
          else assert.deepEqual(now, was, `${how}: ${e.type}.${field} changed`);
        }
      }
      const lines = redacted.filter((e) => e.type === 'transcript.line');
      assert.deepEqual(
        lines.map((e) => e.type === 'transcript.line' && e.data.text),
        ['my card is [card]', 'the number is [card] thanks', '[card]', 'use [card] please'],
        how,
      );
    }
    assert.equal(
      drafts[0]!.type === 'transcript.line' && drafts[0].data.text,
      SAID[0],
      'input kept',
    );
  });

  it('the catalogue declares the free-text fields, each a string field of its schema', () => {
    assert.deepEqual(FREE_TEXT_FIELDS, {
      'transcript.line': ['text'],
      'recording.completed': [],
      'call.ended': [],
      'turn.metrics': [],
      'provider.fallback': ['reason'],
      'call.analyzed': ['summary'],
      'call_log.status': [],
      'provider.health_changed': ['last_error', 'reason'],
      'provider.fallback_summary': [],
      'call.activity_retried': [],
    });
    for (const type of EVENT_TYPES) {
      const schemas = Object.values(EVENT_REGISTRY[type].schemas) as {
        properties: { data: { properties: Record<string, { type?: string }> } };
      }[];
      for (const field of FREE_TEXT_FIELDS[type] as readonly string[])
        for (const schema of schemas)
          assert.equal(
            schema.properties.data.properties[field]?.type,
            'string',
            `${type}.${field}`,
          );
    }
  });

  it('pino hooks: id fields and ids in the message intact, error text and utterances redacted', () => {
    const { lines, log } = logSink();
    log.info(
      {
        callSid: CALL_SID,
        workflowId: WORKFLOW_ID,
        taskQueue: 'switchboard-calls',
        eventId: EVENT_ID,
        sha256: SHA256,
        runId: UUIDS[0],
        requestUuid: UUIDS[1],
        utterance: SAID[0],
      },
      'turn of %s: %s',
      WORKFLOW_ID,
      SAID[2],
    );
    log.error(
      { err: new Error(`update failed for ${WORKFLOW_ID}: ${SAID[3]}`), callSid: CALL_SID },
      'update failed',
    );
    log.warn(new Error(`stream of ${CALL_SID} (parent ${LONG_RUN_SID}) closed after ${SAID[1]}`));
    log.child({ callSid: CALL_SID }).info(`call ${EVENT_ID} written; caller said ${SAID[0]}`);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(parsed.length, 4);
    const all = lines.join('');
    for (const id of IDS) assert.ok(all.includes(id), `${id} missing from the logs:\n${all}`);
    // The card, as said, is nowhere but inside the ids.
    // pino's own numbers (time, pid) may hold these digits: only what was logged counts.
    let scrubbed = all.replace(/"(time|pid)":\d+/g, '');
    for (const id of IDS) scrubbed = scrubbed.split(id).join('<id>');
    assert.doesNotMatch(scrubbed, /4111|four one one one/);
    assert.equal(parsed[0]!.callSid, CALL_SID);
    assert.equal(parsed[0]!.workflowId, WORKFLOW_ID);
    assert.equal(parsed[0]!.eventId, EVENT_ID);
    assert.equal(parsed[0]!.utterance, 'my card is [card]');
    assert.equal(parsed[0]!.msg, `turn of ${WORKFLOW_ID}: [card]`);
    const err = parsed[1]!.err as { message: string; stack: string; type: string };
    assert.equal(err.message, `update failed for ${WORKFLOW_ID}: use [card] please`);
    assert.match(
      err.stack,
      new RegExp(`^Error: update failed for ${WORKFLOW_ID}: use \\[card\\] please`),
    );
    assert.equal(err.type, 'Error');
    assert.equal(
      parsed[2]!.msg,
      `stream of ${CALL_SID} (parent ${LONG_RUN_SID}) closed after the number is [card] thanks`,
    );
    assert.equal(parsed[3]!.msg, `call ${EVENT_ID} written; caller said my card is [card]`);
  });

  it('redactLogFields: identifier keys kept, other strings redacted, errors copied, cycles ended', () => {
    for (const key of [
      'id',
      'callSid',
      'workflowId',
      'runId',
      'taskQueue',
      'hostTaskQueue',
      'eventId',
      'event_id',
      'call_id',
      'object_key',
      'recordingKey',
      'sha256',
      'hash',
    ])
      assert.equal(isIdentifierKey(key), true, key);
    for (const key of [
      'text',
      'utterance',
      'question',
      'reason',
      'msg',
      'error',
      'summary',
      'said',
      'valid',
    ])
      assert.equal(isIdentifierKey(key), false, key);
    const cause = new Error(`because ${SAID[0]}`);
    const err = Object.assign(new TypeError(`failed: ${SAID[3]}`, { cause }), {
      callSid: CALL_SID,
    });
    const input: Record<string, unknown> = {
      ids: [CALL_SID, WORKFLOW_ID],
      nested: { said: SAID[0], callId: CALL_SID },
      err,
    };
    input.self = input;
    const out = redactLogFields(input) as typeof input & {
      nested: Record<string, string>;
      err: TypeError;
    };
    assert.deepEqual(out.ids, [CALL_SID, WORKFLOW_ID]);
    assert.deepEqual(out.nested, { said: 'my card is [card]', callId: CALL_SID });
    assert.ok(out.err instanceof TypeError);
    assert.equal(out.err.message, 'failed: use [card] please');
    assert.equal((out.err as TypeError & { callSid: string }).callSid, CALL_SID);
    assert.equal((out.err.cause as Error).message, 'because my card is [card]');
    assert.equal(out.self, '[Circular]');
    assert.equal(err.message, `failed: ${SAID[3]}`, 'the error itself is not modified');
  });

  it("the Temporal runtime's log line: id fields as they are, message and error redacted", () => {
    const line = formatRuntimeLogLine('WARN', `Activity failed for ${WORKFLOW_ID}: ${SAID[0]}`, {
      sdkComponent: 'worker',
      taskQueue: 'switchboard-calls',
      workflowId: WORKFLOW_ID,
      activityType: 'publishEvents',
      error: new Error(`${EVENT_ID} rejected; caller said ${SAID[2]}`),
    });
    assert.equal(
      line,
      `WARN Activity failed for ${WORKFLOW_ID}: my card is [card] sdkComponent=worker ` +
        `taskQueue=switchboard-calls workflowId=${WORKFLOW_ID} activityType=publishEvents ` +
        `error=Error: ${EVENT_ID} rejected; caller said [card]`,
    );
    // The message is the error's context, as when they were redacted as one line.
    assert.equal(
      formatRuntimeLogLine('ERROR', 'wrong pin', { workflowId: WORKFLOW_ID, error: '9876' }),
      `ERROR wrong pin workflowId=${WORKFLOW_ID} error=[pin]`,
    );
  });
});
