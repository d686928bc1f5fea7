// Sign-in form: POST /api/auth/login with {name, password}; the server sets the session cookie.
import * as api from '../api';
import { h } from '../dom';
import { go } from '../router';
import { state } from '../state';

export function loginPage(root: HTMLElement, params: URLSearchParams): void {
  const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', {
    id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const message = h('p', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', id: 'login-submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login', id: 'login-form' },
    h('h1', {}, 'Streetlight'),
    h('p', { class: 'muted' }, 'Places and times, never people.'),
    h('label', { for: 'login-name' }, 'Name'),
    name,
    h('label', { for: 'login-password' }, 'Password'),
    password,
    message,
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    message.hidden = true;
    try {
      state.user = await api.login(name.value.trim(), password.value);
      state.datasets = [];
      const next = params.get('next');
      if (state.user.must_change_password) go('password', next ? { next } : {});
      else if (next && next.startsWith('#/') && !next.startsWith('#/login')) location.hash = next;
      else go('map');
    } catch (e) {
      message.textContent = e instanceof api.ApiError && e.status === 401
        ? 'Name or password is wrong.'
        : e instanceof Error ? e.message : String(e);
      message.hidden = false;
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  root.append(h('div', { class: 'login-wrap' }, form));
}
