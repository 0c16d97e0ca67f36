-- A deep link (a badge's booking link b_…, a booth's exhibit link x_…) opened by someone who
-- has not finished registering: it is followed once, when the registration is complete, and
-- survives a restart of the bot in between. NULL when nothing waits.
ALTER TABLE delegates ADD COLUMN pending_link TEXT;
