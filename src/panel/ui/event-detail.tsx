import { useEffect, useState } from 'preact/hooks';
import type { EventDetail as Detail } from '../bridge.js';
import { describeFailure } from './action-messages.js';
import {
  describeAttempt,
  describeNext,
  describeTarget,
  formatDateTime,
  formatMs,
  OUTCOME_KEYS,
  STATUS_KEYS,
  translateReason,
} from './format.js';
import { usePanel } from './panel-context.js';
import { useNow } from './use-now.js';

export function EventDetail(props: { id: string; onClose(): void }) {
  const { bridge, t, locale, notify, version } = usePanel();
  const now = useNow();
  const [detail, setDetail] = useState<Detail | undefined | null>(null);

  useEffect(() => {
    let current = true;
    bridge
      .eventDetail(props.id)
      .then((next) => current && setDetail(next))
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [bridge, props.id, version]);

  if (detail === null) {
    return null;
  }

  if (detail === undefined) {
    return (
      <aside class="detail" aria-label={t('detailTitle', { id: props.id })}>
        <p>{t('notFound')}</p>
        <button type="button" onClick={props.onClose}>
          {t('close')}
        </button>
      </aside>
    );
  }

  const { row } = detail;

  // A known reason is shown translated; the plugin's English message only repeats it.
  const describeReason = (reason: string, message: string | undefined) => {
    const translated = translateReason(t, reason);

    if (translated !== undefined) {
      return translated;
    }

    return (
      <>
        <code>{reason}</code>
        {message === undefined ? '' : ` ${message}`}
      </>
    );
  };
  const canRetry = row.status !== 'delivered';
  const canReplay = row.status === 'delivered' || row.status === 'dead';

  const run = async (
    action: 'retryNow' | 'replay' | 'discard',
    doneKey: 'doneRetry' | 'doneReplay' | 'doneDiscard',
  ) => {
    const result = await bridge[action](row.id);
    notify(result.ok ? t(doneKey, { id: row.id }) : describeFailure(t, result));

    if (result.ok && action === 'discard') {
      props.onClose();
    }
  };

  return (
    <aside class="detail" aria-labelledby="detail-heading">
      <header class="detail-header">
        <h2 id="detail-heading">{t('detailTitle', { id: row.id })}</h2>
        <button type="button" onClick={props.onClose}>
          {t('close')}
        </button>
      </header>
      <dl class="summary">
        <dt>{t('columnStatus')}</dt>
        <dd>
          <span class={`status status-${row.status}`}>{t(STATUS_KEYS[row.status])}</span>
          {row.nextAt === undefined
            ? null
            : ` · ${t('columnNext')}: ${describeNext(t, row, now, locale)}`}
        </dd>
        <dt>{t('columnOutcome')}</dt>
        <dd>
          {t(OUTCOME_KEYS[row.outcome])}
          {row.errorCode === undefined ? '' : ` (${row.errorCode})`}
        </dd>
        <dt>{t('columnRelay')}</dt>
        <dd>{row.relay}</dd>
        <dt>{t('columnRef')}</dt>
        <dd>{row.ref ?? '–'}</dd>
        <dt>{t('sentTo')}</dt>
        <dd>
          {'url' in detail.target ? (
            <code>{detail.target.url}</code>
          ) : (
            t('noTarget', { problem: describeTarget(t, detail.target) })
          )}
        </dd>
        {row.reason === undefined ? null : (
          <>
            <dt>{t('reason')}</dt>
            <dd class="reason">{describeReason(row.reason, detail.message)}</dd>
          </>
        )}
      </dl>
      <div class="actions" role="group" aria-label={t('actions')}>
        <button
          type="button"
          disabled={!canRetry}
          onClick={() => void run('retryNow', 'doneRetry')}
        >
          {t('retryNow')}
        </button>
        <button
          type="button"
          disabled={!canReplay}
          onClick={() => {
            if (window.confirm(t('confirmReplay', { id: row.id }))) {
              void run('replay', 'doneReplay');
            }
          }}
        >
          {t('replay')}
        </button>
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (window.confirm(t('confirmDiscard', { id: row.id }))) {
              void run('discard', 'doneDiscard');
            }
          }}
        >
          {t('discard')}
        </button>
      </div>
      <h3>{t('attempts')}</h3>
      {detail.attempts.length === 0 ? (
        <p>{t('noAttempts')}</p>
      ) : (
        <div class="table-scroll">
          <table class="attempts">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('attemptStarted')}</th>
                <th scope="col">{t('attemptDuration')}</th>
                <th scope="col">{t('attemptResult')}</th>
                <th scope="col">{t('attemptResponse')}</th>
                <th scope="col">{t('attemptNext')}</th>
              </tr>
            </thead>
            <tbody>
              {detail.attempts.map((attempt, index) => (
                <tr key={attempt.startedAt} data-classification={attempt.classification}>
                  <td class="number">{row.attemptCount - detail.attempts.length + index + 1}</td>
                  <td>{formatDateTime(attempt.startedAt, locale)}</td>
                  <td class="number">{formatMs(attempt.durationMs, t)}</td>
                  <td>{describeAttempt(t, attempt) || attempt.classification}</td>
                  <td>
                    {attempt.responseExcerpt === undefined ? null : (
                      <code class="excerpt">{attempt.responseExcerpt.slice(0, 300)}</code>
                    )}
                  </td>
                  <td>
                    {attempt.nextAt === undefined ? '' : formatDateTime(attempt.nextAt, locale)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>{t('bodySent')}</h3>
      <pre class="body" tabIndex={0}>
        {detail.body}
      </pre>
      <h3>{t('headers')}</h3>
      <pre class="headers" tabIndex={0}>
        {Object.entries(detail.headers)
          .map(([name, value]) => `${name}: ${value}`)
          .join('\n')}
      </pre>
    </aside>
  );
}
