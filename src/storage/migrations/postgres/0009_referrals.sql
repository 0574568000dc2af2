-- Referrals (issue 17). Each user's code for their /start link, made on first use of /invite.
CREATE TABLE referral_codes (
  user_id    BIGINT PRIMARY KEY REFERENCES users(id),
  code       TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);

-- Who invited whom: one row per invited user (the key is the invitee, so nobody has two inviters),
-- written when a new user starts the bot through a link. converted_at is set once, in the transaction
-- of the invitee's first succeeded image, by a conditional UPDATE (converted_at IS NULL): the bonus of
-- both users is granted in that same transaction, so it happens once however many workers race.
CREATE TABLE referrals (
  invitee_id   BIGINT PRIMARY KEY REFERENCES users(id),
  inviter_id   BIGINT NOT NULL REFERENCES users(id),
  created_at   BIGINT NOT NULL,
  converted_at BIGINT,
  bonus_images INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX referrals_inviter ON referrals (inviter_id);
CREATE INDEX referrals_converted ON referrals (converted_at) WHERE converted_at IS NOT NULL;

-- Bonus images a user holds (earned through referrals), spent after the period's quota is used up.
ALTER TABLE users ADD COLUMN bonus_images INTEGER NOT NULL DEFAULT 0;
-- 1: the job is paid from the bonus balance, not the period's quota (given back if it fails).
ALTER TABLE jobs ADD COLUMN bonus INTEGER NOT NULL DEFAULT 0;
