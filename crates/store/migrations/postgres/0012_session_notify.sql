-- Issue 13.6: more than one instance on one database. Each instance keeps recently loaded
-- sessions in memory for a moment; a change that ends or narrows a login (logout, a session
-- ended by an admin, a changed password, clearance or disabled flag, a granted or revoked role)
-- tells every instance at its commit, so the others drop their copies within milliseconds
-- instead of waiting for the cache's time to live.
CREATE FUNCTION quantriet_notify_sessions() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('quantriet_sessions', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER login_sessions_notify_delete AFTER DELETE ON login_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION quantriet_notify_sessions();
CREATE TRIGGER login_sessions_notify_stage AFTER UPDATE OF stage, expires_at ON login_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION quantriet_notify_sessions();
CREATE TRIGGER accounts_notify AFTER UPDATE OF password_hash, clearance, disabled, must_change_password, totp_enabled ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION quantriet_notify_sessions();
CREATE TRIGGER role_grants_notify AFTER INSERT OR UPDATE OR DELETE ON role_grants
    FOR EACH STATEMENT EXECUTE FUNCTION quantriet_notify_sessions();
