-- Why a job failed, as a code (core::FailureCode: unavailable, content_refused, invalid_request,
-- interrupted) that the bot words in the user's language and the API returns as error_code; NULL
-- for jobs that did not fail. It replaces public_error, an English sentence, which new rows leave
-- empty. Jobs that failed before this migration have no code and are told as unavailable.
ALTER TABLE jobs ADD COLUMN failure TEXT;
