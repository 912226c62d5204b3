-- Snowflake objects the SnowflakeWarehouse adapter loads into: run once per account (the
-- adapter itself only MERGEs and counts). The raw EVENTS table holds each event as VARIANT;
-- the typed projections the DuckDB adapter keeps as tables are views here.
CREATE TABLE IF NOT EXISTS EVENTS (
  EVENT_ID VARCHAR PRIMARY KEY, -- not enforced by Snowflake: the adapter's MERGE keeps it unique
  TYPE VARCHAR NOT NULL,
  CALL_ID VARCHAR NOT NULL,
  WORKFLOW_ID VARCHAR NOT NULL,
  SEQ NUMBER NOT NULL,
  OCCURRED_AT TIMESTAMP_NTZ NOT NULL,
  SCHEMA_VERSION NUMBER NOT NULL,
  PAYLOAD VARIANT NOT NULL,
  LOADED_AT TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP()
);

CREATE OR REPLACE VIEW CALLS AS
SELECT EVENT_ID, CALL_ID, OCCURRED_AT, PAYLOAD:data:disposition::VARCHAR AS DISPOSITION,
       PAYLOAD:data:intents AS INTENTS, PAYLOAD:data:turns::NUMBER AS TURNS,
       PAYLOAD:data:duration_ms::NUMBER AS DURATION_MS, PAYLOAD:data:fallbacks_used AS FALLBACKS_USED,
       PAYLOAD:data:customer_id::VARCHAR AS CUSTOMER_ID
FROM EVENTS WHERE TYPE = 'call.ended';

CREATE OR REPLACE VIEW TURN_METRICS AS
SELECT EVENT_ID, CALL_ID, OCCURRED_AT, PAYLOAD:data:turn_id::NUMBER AS TURN_ID,
       PAYLOAD:data:latency_ms:asr::FLOAT AS ASR_MS, PAYLOAD:data:latency_ms:intent::FLOAT AS INTENT_MS,
       PAYLOAD:data:latency_ms:retrieval::FLOAT AS RETRIEVAL_MS, PAYLOAD:data:latency_ms:llm::FLOAT AS LLM_MS,
       PAYLOAD:data:latency_ms:tts::FLOAT AS TTS_MS, PAYLOAD:data:latency_ms:end_to_end::FLOAT AS END_TO_END_MS,
       PAYLOAD:data:providers:asr::VARCHAR AS ASR_PROVIDER, PAYLOAD:data:providers:tts::VARCHAR AS TTS_PROVIDER,
       PAYLOAD:data:providers:llm::VARCHAR AS LLM_PROVIDER,
       PAYLOAD:data:usage:asr_audio_ms::NUMBER AS ASR_AUDIO_MS,
       PAYLOAD:data:usage:tts_characters::NUMBER AS TTS_CHARACTERS,
       PAYLOAD:data:usage:llm_input_tokens::NUMBER AS LLM_INPUT_TOKENS,
       PAYLOAD:data:usage:llm_output_tokens::NUMBER AS LLM_OUTPUT_TOKENS
FROM EVENTS WHERE TYPE = 'turn.metrics';

CREATE OR REPLACE VIEW PROVIDER_FALLBACKS AS
SELECT EVENT_ID, CALL_ID, OCCURRED_AT, PAYLOAD:data:stage::VARCHAR AS STAGE,
       PAYLOAD:data:failed_provider::VARCHAR AS FAILED_PROVIDER, PAYLOAD:data:reason::VARCHAR AS REASON,
       PAYLOAD:data:served_by::VARCHAR AS SERVED_BY
FROM EVENTS WHERE TYPE = 'provider.fallback';

CREATE OR REPLACE VIEW TRANSCRIPT_LINES AS
SELECT EVENT_ID, CALL_ID, OCCURRED_AT, SEQ, PAYLOAD:data:turn_id::NUMBER AS TURN_ID,
       PAYLOAD:data:speaker::VARCHAR AS SPEAKER, PAYLOAD:data:text::VARCHAR AS TEXT,
       PAYLOAD:data:confidence::FLOAT AS CONFIDENCE, PAYLOAD:data:intent::VARCHAR AS INTENT
FROM EVENTS WHERE TYPE = 'transcript.line';

CREATE OR REPLACE VIEW RECORDINGS AS
SELECT EVENT_ID, CALL_ID, OCCURRED_AT, PAYLOAD:data:bucket::VARCHAR AS BUCKET,
       PAYLOAD:data:object_key::VARCHAR AS OBJECT_KEY, PAYLOAD:data:duration_ms::NUMBER AS DURATION_MS,
       PAYLOAD:data:truncated::BOOLEAN AS TRUNCATED
FROM EVENTS WHERE TYPE = 'recording.completed';

CREATE OR REPLACE VIEW CALL_ANALYTICS AS
SELECT EVENT_ID, CALL_ID, OCCURRED_AT, PAYLOAD:data:summary::VARCHAR AS SUMMARY,
       PAYLOAD:data:disposition::VARCHAR AS DISPOSITION, PAYLOAD:data:qa_flags AS QA_FLAGS,
       PAYLOAD:data:summary_provider::VARCHAR AS SUMMARY_PROVIDER,
       PAYLOAD:data:transcription_provider::VARCHAR AS TRANSCRIPTION_PROVIDER,
       PAYLOAD:data:transcript_words::NUMBER AS TRANSCRIPT_WORDS
FROM EVENTS WHERE TYPE = 'call.analyzed';
