import { useEffect, useState } from 'preact/hooks';
import type { DevControls as Controls, DevState } from './bridge-client.js';
import type { MessageKey } from './messages.js';
import { formatClock } from './format.js';
import { usePanel } from './panel-context.js';

const MODES: Array<{ mode: string; key: MessageKey }> = [
  { mode: 'ok', key: 'devModeOk' },
  { mode: 'fail-once', key: 'devModeFailOnce' },
  { mode: 'fail-503', key: 'devModeFail503' },
  { mode: 'hang', key: 'devModeHang' },
  { mode: 'gone', key: 'devModeGone' },
];

/** Controls of the development host: fire outcomes and choose how the local relay answers. */
export function DevControls(props: { dev: Controls }) {
  const { t, locale, version } = usePanel();
  const [state, setState] = useState<DevState | undefined>(undefined);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    void props.dev
      .state()
      .then(setState)
      .catch(() => undefined);
  }, [version, tick]);

  const modeKey = MODES.find((entry) => entry.mode === state?.relay.mode)?.key;

  return (
    <section class="dev" aria-labelledby="dev-heading">
      <h2 id="dev-heading">{t('devTitle')}</h2>
      <div class="dev-row" role="group" aria-label={t('devFire')}>
        <span>{t('devFire')}:</span>
        <button
          type="button"
          data-fire="confirmed"
          onClick={() => void props.dev.fire('confirmed')}
        >
          {t('devConfirmed')}
        </button>
        <button
          type="button"
          data-fire="cancelled"
          onClick={() => void props.dev.fire('cancelled')}
        >
          {t('devCancelled')}
        </button>
        <button type="button" data-fire="failed" onClick={() => void props.dev.fire('failed')}>
          {t('devFailed')}
        </button>
      </div>
      <p id="relay-mode">
        {t('devRelay', {
          url: state?.relay.url ?? '',
          mode: modeKey === undefined ? (state?.relay.mode ?? '') : t(modeKey),
        })}
      </p>
      <div class="dev-row" role="group" aria-labelledby="relay-mode">
        {MODES.map((entry) => (
          <button
            type="button"
            key={entry.mode}
            data-mode={entry.mode}
            aria-pressed={state?.relay.mode === entry.mode}
            onClick={async () => {
              await props.dev.setRelayMode(entry.mode);
              setTick(tick + 1);
            }}
          >
            {t(entry.key)}
          </button>
        ))}
      </div>
      <details>
        <summary>
          {t('devReceived')} ({state?.relay.received.length ?? 0})
        </summary>
        <ul class="received">
          {(state?.relay.received ?? [])
            .slice(-20)
            .reverse()
            .map((entry, index) => (
              <li key={`${entry.eventId}-${entry.receivedAt}-${index}`}>
                {formatClock(entry.receivedAt, locale)} <code>{entry.eventId}</code>{' '}
                {entry.verified
                  ? t('devVerified')
                  : t('devNotVerified', { problem: entry.problem ?? '' })}
                ,{' '}
                {typeof entry.answeredWith === 'number'
                  ? t('devAnswered', { status: entry.answeredWith })
                  : t('devNoAnswer')}
              </li>
            ))}
        </ul>
      </details>
    </section>
  );
}
