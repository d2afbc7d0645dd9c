import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { ChannelStats, PanelStats } from '../bridge.js';
import { formatDateTime, formatMs, formatPercent } from './format.js';
import type { Translate } from './messages.js';
import { usePanel } from './panel-context.js';

/** Tick steps of the count axis: whole numbers only, since outcomes are counted. */
const WHOLE_COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

export function Monitoring() {
  const { bridge, t, version } = usePanel();
  const [stats, setStats] = useState<PanelStats | undefined>(undefined);

  useEffect(() => {
    let current = true;
    bridge
      .stats()
      .then((next) => current && setStats(next))
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [bridge, version]);

  if (stats === undefined) {
    return null;
  }

  return (
    <section aria-labelledby="monitoring-heading" class="monitoring">
      <h2 id="monitoring-heading" class="visually-hidden">
        {t('tabMonitoring')}
      </h2>
      <p>{t('monitoringIntro')}</p>
      <div class="figures">
        <Figure label={t('successRate')} value={formatPercent(stats.total.successRate, t)} />
        <Figure label={t('cancelRate')} value={formatPercent(stats.total.cancelRate, t)} />
        <Figure label={t('deliveryRate')} value={formatPercent(stats.total.deliveryRate, t)} />
        <Figure label={t('latencyMedian')} value={formatMs(stats.total.latencyMedianMs, t)} />
        <Figure label={t('latencyP95')} value={formatMs(stats.total.latencyP95Ms, t)} />
      </div>
      <Chart stats={stats} />
      <ChannelTable caption={t('byRelay')} channels={stats.byRelay} />
      <ChannelTable caption={t('byRef')} channels={stats.byRef} />
      <h3>{t('dropsTitle')}</h3>
      <p class="drops">
        {t('dropsInvalid')}: {stats.drops.invalid} · {t('dropsRateLimited')}:{' '}
        {stats.drops.rateLimited} · {t('dropsOutboxFull')}: {stats.drops.outboxFull} ·{' '}
        {t('dropsDuplicate')}: {stats.drops.duplicate}
      </p>
    </section>
  );
}

function Figure(props: { label: string; value: string }) {
  return (
    <div class="figure">
      <span class="figure-label">{props.label}</span>
      <span class="figure-value">{props.value}</span>
    </div>
  );
}

function ChannelTable(props: { caption: string; channels: ChannelStats[] }) {
  const { t } = usePanel();
  return (
    <div class="table-scroll">
      <table class="channels">
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('channel')}</th>
            <th scope="col">{t('outcomesSplit')}</th>
            <th scope="col">{t('successRate')}</th>
            <th scope="col">{t('cancelRate')}</th>
            <th scope="col">{t('errorCodes')}</th>
            <th scope="col">{t('deliveryRate')}</th>
            <th scope="col">{t('latencyMedian')}</th>
            <th scope="col">{t('latencyP95')}</th>
          </tr>
        </thead>
        <tbody>
          {props.channels.map((channel) => (
            <tr key={channel.key}>
              <th scope="row">{channel.key}</th>
              <td class="number">
                {channel.outcomes.success} / {channel.outcomes.cancelled} / {channel.outcomes.error}
              </td>
              <td class="number">{formatPercent(channel.successRate, t)}</td>
              <td class="number">{formatPercent(channel.cancelRate, t)}</td>
              <td>
                {channel.errorCodes.length === 0
                  ? t('noData')
                  : channel.errorCodes
                      .map((entry) => `${entry.code} ${formatPercent(entry.share, t)}`)
                      .join(', ')}
              </td>
              <td class="number">{formatPercent(channel.deliveryRate, t)}</td>
              <td class="number">{formatMs(channel.latencyMedianMs, t)}</td>
              <td class="number">{formatMs(channel.latencyP95Ms, t)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function bucketLabel(bucketMs: number, t: Translate): string {
  return bucketMs >= 3_600_000
    ? t('bucketHours', { n: bucketMs / 3_600_000 })
    : t('bucketMinutes', { n: bucketMs / 60_000 });
}

/**
 * Labels the time axis in the panel's locale: clock times, with the date on the first tick and
 * wherever the day changes. uPlot's own labels are English only.
 */
function axisLabels(splits: number[], locale: string): string[] {
  const clock = new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
  const day = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' });
  let lastDay = '';
  return splits.map((seconds) => {
    const time = new Date(seconds * 1000);
    const date = day.format(time);
    const label = date === lastDay ? clock.format(time) : `${date} ${clock.format(time)}`;
    lastDay = date;
    return label;
  });
}

/** Outcomes and deliveries per time bucket, drawn by uPlot. */
function Chart(props: { stats: PanelStats }) {
  const { t, locale } = usePanel();
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const { series } = props.stats;
  const data: uPlot.AlignedData = [
    series.times,
    series.success,
    series.cancelled,
    series.error,
    series.delivered,
    series.dead,
  ];

  useEffect(() => {
    const element = container.current;

    if (element === null) {
      return;
    }

    const width = Math.max(320, element.clientWidth);
    const options: uPlot.Options = {
      width,
      height: 260,
      series: [
        {
          label: t('chartTime'),
          value: (_plot, seconds) =>
            seconds === null ? '–' : formatDateTime(seconds * 1000, locale),
        },
        { label: t('outcomeSuccess'), stroke: '#0b7a3e', width: 2 },
        { label: t('outcomeCancelled'), stroke: '#9a6700', width: 2 },
        { label: t('outcomeError'), stroke: '#b42318', width: 2 },
        { label: t('chartDelivered'), stroke: '#1d4ed8', width: 1, dash: [6, 4] },
        { label: t('chartDead'), stroke: '#6b21a8', width: 1, dash: [2, 3] },
      ],
      axes: [
        { values: (_plot, splits) => axisLabels(splits, locale) },
        { label: t('outcomes'), incrs: WHOLE_COUNT_STEPS },
      ],
      scales: { x: { time: true } },
    };
    plot.current?.destroy();
    plot.current = new uPlot(options, data, element);
    const resize = () =>
      plot.current?.setSize({ width: Math.max(320, element.clientWidth), height: 260 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [t, locale]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [props.stats]);

  return (
    <figure class="chart">
      <figcaption>{t('chartTitle', { bucket: bucketLabel(series.bucketMs, t) })}</figcaption>
      <div
        ref={container}
        role="img"
        aria-label={t('chartTitle', { bucket: bucketLabel(series.bucketMs, t) })}
      />
    </figure>
  );
}
