import { useEffect, useState } from 'preact/hooks';
import { DELIVERY_STATUSES, type DeliveryStatus, type EventPage } from '../bridge.js';
import {
  describeAttempt,
  describeNext,
  formatAge,
  OUTCOME_KEYS,
  STATUS_KEYS,
  translateReason,
} from './format.js';
import { usePanel } from './panel-context.js';
import { useNow } from './use-now.js';

const PAGE_SIZE = 100;

export function EventLog(props: { selected: string | undefined; onSelect(id: string): void }) {
  const { bridge, t, locale, version } = usePanel();
  const now = useNow();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [relay, setRelay] = useState('');
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<EventPage | undefined>(undefined);

  useEffect(() => {
    let current = true;
    bridge
      .listEvents({
        ...(status === '' ? {} : { statuses: [status] }),
        ...(relay === '' ? {} : { relay }),
        ...(search.trim() === '' ? {} : { search: search.trim() }),
        offset,
        limit: PAGE_SIZE,
      })
      .then((next) => {
        if (current) {
          setPage(next);
        }
      })
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [bridge, status, relay, search, offset, version]);

  const total = page?.total ?? 0;

  return (
    <section aria-labelledby="log-heading">
      <h2 id="log-heading" class="visually-hidden">
        {t('tabLog')}
      </h2>
      <div class="filters">
        <label>
          {t('filterStatus')}
          <select
            value={status}
            onChange={(event) => {
              setStatus(event.currentTarget.value as DeliveryStatus | '');
              setOffset(0);
            }}
          >
            <option value="">{t('allStatuses')}</option>
            {DELIVERY_STATUSES.map((value) => (
              <option value={value} key={value}>
                {t(STATUS_KEYS[value])} ({page?.counts[value] ?? 0})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('filterRelay')}
          <select
            value={relay}
            onChange={(event) => {
              setRelay(event.currentTarget.value);
              setOffset(0);
            }}
          >
            <option value="">{t('allRelays')}</option>
            {(page?.relays ?? []).map((id) => (
              <option value={id} key={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          {t('search')}
          <input
            type="search"
            value={search}
            onInput={(event) => {
              setSearch(event.currentTarget.value);
              setOffset(0);
            }}
          />
        </label>
      </div>
      <div class="table-scroll">
        <table class="log">
          <thead>
            <tr>
              <th scope="col">{t('columnStatus')}</th>
              <th scope="col">{t('columnOutcome')}</th>
              <th scope="col">{t('columnRelay')}</th>
              <th scope="col">{t('columnRef')}</th>
              <th scope="col">{t('columnAge')}</th>
              <th scope="col">{t('columnAttempts')}</th>
              <th scope="col">{t('columnLast')}</th>
              <th scope="col">{t('columnNext')}</th>
            </tr>
          </thead>
          <tbody>
            {(page?.rows ?? []).map((row) => (
              <tr
                key={row.id}
                data-event-id={row.id}
                data-status={row.status}
                class={row.id === props.selected ? 'selected' : undefined}
              >
                <td>
                  <button
                    type="button"
                    class={`status status-${row.status}`}
                    aria-pressed={row.id === props.selected}
                    title={row.id}
                    onClick={() => props.onSelect(row.id)}
                  >
                    {t(STATUS_KEYS[row.status])}
                  </button>
                  {row.test ? <span class="badge">{t('testBadge')}</span> : null}
                </td>
                <td>
                  {t(OUTCOME_KEYS[row.outcome])}
                  {row.errorCode === undefined ? null : <code> {row.errorCode}</code>}
                </td>
                <td>{row.relay}</td>
                <td>{row.ref ?? ''}</td>
                <td>
                  <time dateTime={new Date(row.queuedAt).toISOString()}>
                    {formatAge(t, row.queuedAt, now)}
                  </time>
                </td>
                <td class="number">{row.attemptCount}</td>
                <td class="last-attempt">
                  {row.lastAttempt === undefined
                    ? row.reason === undefined
                      ? ''
                      : (translateReason(t, row.reason) ?? row.reason)
                    : describeAttempt(t, row.lastAttempt)}
                </td>
                <td class="next-retry">{describeNext(t, row, now, locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {total === 0 ? <p class="empty">{t('noEvents')}</p> : null}
      <nav class="pager" aria-label={t('tabLog')}>
        <button
          type="button"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}
        >
          {t('previous')}
        </button>
        <span>
          {t('pageOf', {
            from: total === 0 ? 0 : offset + 1,
            to: Math.min(total, offset + PAGE_SIZE),
            total,
          })}
        </span>
        <button
          type="button"
          disabled={offset + PAGE_SIZE >= total}
          onClick={() => setOffset(offset + PAGE_SIZE)}
        >
          {t('next')}
        </button>
      </nav>
    </section>
  );
}
