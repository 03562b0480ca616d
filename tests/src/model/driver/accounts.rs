//! Adding a user with a temporary password (API.md "Accounts"), as the driver checks it: an
//! address that has an account answers `201 {result: "invited", invitation}` and is mailed
//! like any invitation; a refusal makes no account.

use super::{Driver, millis};
use crate::harness::TestResponse;
use crate::model::ops::{Addr, Ref};
use crate::model::spec::HOUR_MS;

impl Driver<'_> {
    /// The invitation of an address that has an account, held to the model's.
    pub(super) async fn account_invited(
        &mut self,
        r: &TestResponse,
        inv: Ref,
        (before, after): (i64, i64),
        mail_since: i64,
    ) -> Result<(), String> {
        ensure!(r.body["result"] == "invited", "result {} but the address has an account", r.body["result"]);
        ensure!(r.body.get("member").is_none(), "a member beside the invitation: {}", r.body);
        let shown = &r.body["invitation"];
        let id = shown["id"].as_str().ok_or("no invitation id")?.to_owned();
        let org = self.model.invitations[&inv].org;
        self.inv_ids.insert(inv, id);
        self.created_in.insert(inv, org);
        let expires = millis(&shown["expiresAt"]).ok_or("no expiresAt")?;
        let ttl = self.model.cfg.ttl_hours * HOUR_MS;
        ensure!(
            (before + ttl..=after + ttl).contains(&expires),
            "expiresAt {} is not the default",
            shown["expiresAt"]
        );
        self.model.invitations.get_mut(&inv).expect("invited").expires_at = expires;
        self.check_invitation_as(shown, inv, after, true)?;
        let mail = self.new_mail(mail_since).await;
        let i = &self.model.invitations[&inv];
        let token = self.mailed_token(&mail, &i.email.clone(), i.org, i.role)?;
        self.tokens.insert(inv, token);
        Ok(())
    }

    /// A refused request made no account: an address without one still has none.
    pub(super) async fn no_account_made(&mut self, addr: Addr) -> Result<(), String> {
        let address = self.world.pool.render(addr);
        if self.model.accounts.contains(&address) {
            return Ok(());
        }
        let (Some(accounts), Ok(email)) = (&self.app.app.accounts, roster::domain::Email::parse(&address))
        else {
            return Ok(());
        };
        let found = accounts.find(&email).await.map_err(|e| format!("AdminGetUser: {}", e.code()))?;
        ensure!(found.is_none(), "a refused request made an account for {address}");
        Ok(())
    }
}
