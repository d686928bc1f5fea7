// Choose your own password: shown after signing in with a password an administrator set
// (the server refuses everything else until then: `password_change_required`).
import * as api from '../api';
import { h } from '../dom';
import { go } from '../router';
import { state } from '../state';

export function passwordPage(root: HTMLElement, params: URLSearchParams): void {
  const field = (id: string, autocomplete: string) =>
    h('input', { id, name: id, type: 'password', autocomplete, required: true, minlength: 8, maxlength: 128 });
  const current = field('password-current', 'current-password');
  const next = field('password-new', 'new-password');
  const repeat = field('password-repeat', 'new-password');
  const message = h('p', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', id: 'password-submit' }, 'Save and continue');
  const form = h(
    'form',
    { class: 'login', id: 'password-form' },
    h('h1', {}, 'Choose your own password'),
    h('p', { class: 'muted' },
      `${state.user?.name ?? 'This account'} was given a password by an administrator. ` +
      'Choose one only you know: 8 to 128 characters, not a common password. A few unrelated words make a good one.'),
    h('label', { for: 'password-current' }, 'Password you were given'),
    current,
    h('label', { for: 'password-new' }, 'New password'),
    next,
    h('label', { for: 'password-repeat' }, 'New password again'),
    repeat,
    message,
    submit,
  );
  const fail = (text: string) => {
    message.textContent = text;
    message.hidden = false;
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    message.hidden = true;
    if (next.value !== repeat.value) {
      fail('The two new passwords differ.');
      repeat.focus();
      return;
    }
    submit.disabled = true;
    try {
      state.user = await api.changePassword(current.value, next.value);
      state.datasets = [];
      const target = params.get('next');
      if (target && target.startsWith('#/') && !target.startsWith('#/login') && !target.startsWith('#/password')) {
        location.hash = target;
      } else go('map');
    } catch (e) {
      fail(e instanceof api.ApiError && e.status === 401
        ? 'The password you were given is not right.'
        : e instanceof Error ? e.message : String(e));
      current.focus();
    } finally {
      submit.disabled = false;
    }
  });
  root.append(h('div', { class: 'login-wrap' }, form));
}
