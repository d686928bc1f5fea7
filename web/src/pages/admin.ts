// Admin: accounts (add, role, password reset, unlock, disable, enable) and the audit log
// with its chain check. The server checks every action and audits it (docs/API.md); this
// page only shows admins the link, and shows the server's refusals as they come.
import * as api from '../api';
import { h, clear, int, errorBox } from '../dom';
import { state } from '../state';
import { section } from './common';

const ROLES: api.User['role'][] = ['admin', 'analyst', 'supervisor', 'viewer'];
const AUDIT_ROWS = 50;

/** Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS.mmm UTC` (the audit log is in UTC). */
const utc = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`;

export async function adminPage(root: HTMLElement): Promise<void> {
  root.append(h('h1', {}, 'Accounts and audit log'));
  if (state.user?.role !== 'admin') {
    root.append(h('p', { class: 'empty' }, 'Only administrators manage accounts. Ask one if you need a change.'));
    return;
  }
  const notice = h('div', { id: 'admin-notice', role: 'status' });
  const accountsBox = h('div', { id: 'accounts' }, h('p', { class: 'muted' }, 'Loading…'));
  const auditBox = h('div', { id: 'audit' }, h('p', { class: 'muted' }, 'Loading…'));
  const verifyOut = h('p', { id: 'audit-verify-result', role: 'status' });

  /** Runs an account action, then shows what happened and the fresh list. */
  async function act(what: string, run: () => Promise<api.Account | api.AccountWithPassword>): Promise<void> {
    clear(notice);
    try {
      const done = await run();
      if ('temporary_password' in done) notice.append(passwordNotice(what, done));
      else notice.append(h('p', { class: 'ok' }, `${what}: done.`));
    } catch (e) {
      notice.append(errorBox(e));
    }
    await Promise.all([loadAccounts(), loadAudit()]);
  }

  async function loadAccounts(): Promise<void> {
    let list: api.Account[];
    try {
      list = await api.accounts();
    } catch (e) {
      clear(accountsBox);
      accountsBox.append(errorBox(e));
      return;
    }
    clear(accountsBox);
    accountsBox.append(h('table', { class: 'data', id: 'accounts-table' },
      h('thead', {}, h('tr', {}, ['account', 'role', 'state', 'created', 'actions'].map((t) => h('th', {}, t)))),
      h('tbody', {}, list.map((u) => accountRow(u)))));
  }

  function accountRow(u: api.Account): HTMLElement {
    const role = h('select', { 'aria-label': `Role of ${u.name}`, 'data-role-of': u.name },
      ROLES.map((r) => {
        const o = h('option', { value: r }, r);
        if (r === u.role) o.selected = true;
        return o;
      }));
    role.addEventListener('change', () => void act(`${u.name} is now ${role.value}`, () => api.setRole(u.name, role.value)));
    const states = [
      u.disabled ? 'disabled' : null,
      u.locked ? 'locked (failed sign-ins)' : null,
      u.must_change_password ? 'must choose a password' : null,
    ].filter(Boolean);
    const button = (label: string, action: string, run: () => Promise<api.Account | api.AccountWithPassword>) =>
      h('button', { type: 'button', class: 'small', 'data-action': action, 'data-account': u.name,
        onclick: () => void act(`${label}: ${u.name}`, run) }, label);
    const mine = u.name === state.user?.name;
    return h('tr', { 'data-account': u.name },
      h('td', {}, u.name, mine ? h('span', { class: 'muted small' }, ' (you)') : null),
      h('td', {}, role),
      h('td', { class: 'account-state' }, states.length ? states.join(', ') : 'active'),
      h('td', {}, new Date(u.created_ms).toISOString().slice(0, 10)),
      h('td', { class: 'actions' },
        u.locked ? button('Unlock', 'unlock', () => api.unlockAccount(u.name)) : null,
        mine ? null : button('Reset password', 'password', () => {
          if (!confirm(`Give ${u.name} a new temporary password? Their sessions end now.`)) {
            return Promise.reject(new Error('Reset cancelled.'));
          }
          return api.resetPassword(u.name);
        }),
        mine ? null : u.disabled
          ? button('Enable', 'enable', () => api.enableAccount(u.name))
          : button('Disable', 'disable', () => api.disableAccount(u.name))));
  }

  async function loadAudit(): Promise<void> {
    let rows: api.AuditRecord[];
    try {
      rows = await api.auditLog(AUDIT_ROWS);
    } catch (e) {
      clear(auditBox);
      auditBox.append(errorBox(e));
      return;
    }
    clear(auditBox);
    auditBox.append(h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'audit-table' },
      h('thead', {}, h('tr', {}, ['#', 'time (UTC)', 'who', 'action', 'object', 'outcome', 'from'].map((t) => h('th', {}, t)))),
      h('tbody', {}, [...rows].reverse().map((r) => h('tr', { class: r.outcome === 'ok' ? '' : 'flag' },
        h('td', { class: 'n' }, String(r.id)), h('td', {}, utc(r.ts_ms)), h('td', {}, r.actor ?? '(nobody)'),
        h('td', {}, h('code', {}, r.action)), h('td', {}, r.object), h('td', {}, r.outcome), h('td', {}, r.source)))))));
  }

  const name = h('input', { id: 'account-name', name: 'name', required: true, maxlength: 64, autocomplete: 'off',
    pattern: '[A-Za-z0-9][A-Za-z0-9._@\\-]*', title: 'letters, digits, dot, underscore, hyphen, @; starting with a letter or digit' });
  const newRole = h('select', { id: 'account-role', name: 'role' },
    ROLES.map((r) => h('option', { value: r, selected: r === 'viewer' }, r)));
  const add = h('form', { id: 'account-add', class: 'inline-form' },
    h('label', { for: 'account-name' }, 'Name'), name,
    h('label', { for: 'account-role' }, 'Role'), newRole,
    h('button', { type: 'submit', id: 'account-add-submit' }, 'Add account'));
  add.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void act(`New account ${name.value}`, () => api.addAccount(name.value, newRole.value)).then(() => {
      if (notice.querySelector('.temporary-password')) name.value = '';
    });
  });

  const verify = h('button', { type: 'button', id: 'audit-verify' }, 'Verify the chain');
  verify.addEventListener('click', async () => {
    verify.disabled = true;
    clear(verifyOut);
    try {
      const v = await api.verifyAudit();
      verifyOut.className = v.ok ? 'ok' : 'error';
      verifyOut.textContent = v.ok
        ? `Intact: ${int(v.records)} records, every hash and link verifies. Head ${v.head ?? '–'} (keep it elsewhere to detect a later cut).`
        : `Broken: ${v.problems.map((p) => `record ${p.id} (${p.check}): ${p.message}`).join('; ')}`;
    } catch (e) {
      verifyOut.append(errorBox(e));
    } finally {
      verify.disabled = false;
    }
  });

  root.append(
    notice,
    section('Accounts',
      h('p', { class: 'muted small' },
        'A new account, or a reset, gets a temporary password shown here once: pass it on in person or by phone. ' +
        'It is good only for choosing one\'s own password at the first sign-in. Five failed sign-ins in 15 minutes lock an account until it is unlocked here. ' +
        'The last administrator can be neither demoted nor disabled.'),
      add, accountsBox),
    section(`Audit log (last ${AUDIT_ROWS} records, newest first)`,
      h('p', { class: 'muted small' },
        'Every sign-in, data read, forecast and account change, chained by hash: a record changed or removed afterwards breaks the chain.'),
      h('div', { class: 'inline-form' }, verify), verifyOut, auditBox),
  );
  await Promise.all([loadAccounts(), loadAudit()]);
}

function passwordNotice(what: string, done: api.AccountWithPassword): HTMLElement {
  return h('div', { class: 'card notice' },
    h('p', {}, `${what}. Temporary password for `, h('strong', {}, done.user.name), ' (shown once):'),
    h('p', {}, h('code', { class: 'temporary-password', id: 'temporary-password' }, done.temporary_password)),
    h('p', { class: 'muted small' }, 'They sign in with it and must choose their own password at once.'));
}
