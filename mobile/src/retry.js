// Requests that must get through on a weak signal (a purchase, a wish's action): one that got
// no answer, or a "try again later" (5xx, 429, conflict_retry), is sent again after a growing
// wait (1 s, 2 s, 4 s, … up to a minute; Retry-After honoured), at once when the network comes
// back or the page is looked at again. An attempt in flight when the phone says it is offline
// is stopped (it would only fail after a long time-out) and made again once the network is
// back. A refusal (another 4xx) ends it: it would be refused again. The caller makes each
// request idempotent (its Idempotency-Key, or a look at the
// outcome), so that a request whose answer was lost is not done twice.

// Waits between attempts on a failing network: 1 s, 2 s, 4 s, … up to a minute.
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000, 60000];

/** How long to wait before the attempt after `attempts` failed ones, jittered. */
export function backoff(attempts, retryAfter) {
  const base = BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length) - 1] || 1000;
  const jittered = base * (0.8 + Math.random() * 0.4);
  return Math.max(jittered, (retryAfter || 0) * 1000);
}

/** Resolves after `ms`, or sooner: the network is back, or the page is shown again. */
function pause(ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      document.removeEventListener('visibilitychange', shown);
      resolve();
    };
    const shown = () => {
      if (document.visibilityState === 'visible') done();
    };
    const timer = setTimeout(done, ms);
    window.addEventListener('online', done);
    document.addEventListener('visibilitychange', shown);
  });
}

/** One attempt: request({signal, attempts}), stopped through `signal` when the phone goes
 * offline. */
async function attempt(request, attempts) {
  const stop = new AbortController();
  const lost = () => stop.abort();
  window.addEventListener('offline', lost);
  try {
    return await request({ signal: stop.signal, attempts });
  } finally {
    window.removeEventListener('offline', lost);
  }
}

/**
 * Runs `request({signal, attempts})` until it answers or is refused (an ApiError that is not
 * transient, thrown on). onRetry(attempts, error) before each wait. `isCancelled()` stops it
 * between attempts (signed out, or the user gave up): it then throws the last error.
 */
export async function persistently(request, { onRetry, isCancelled } = {}) {
  for (let attempts = 1; ; attempts += 1) {
    try {
      return await attempt(request, attempts);
    } catch (error) {
      if (!error.transient || isCancelled?.()) throw error;
      onRetry?.(attempts, error);
      // Offline: nothing to try until the phone says the network is back (or a minute).
      await pause(navigator.onLine === false ? 60_000 : backoff(attempts, error.retryAfter));
      if (isCancelled?.()) throw error;
    }
  }
}

/**
 * An action the server does not replay by key (a wish's claim, a cancellation) sent
 * persistently: when a repeat is refused as no longer allowed (409), the first attempt may have
 * done it, its answer lost, so `outcome()` looks: it answers the thing as the action left it,
 * or null when the action did not happen (then the refusal is thrown).
 */
export async function actPersistently(request, outcome, options = {}) {
  let attempts = 0;
  try {
    return await persistently((context) => {
      attempts = context.attempts;
      return request(context);
    }, options);
  } catch (error) {
    if (attempts > 1 && error.status === 409) {
      const done = await outcome().catch(() => null);
      if (done) return done;
    }
    throw error;
  }
}
