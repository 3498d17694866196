// i18n.js — the page's labels in Chinese (zh-CN) and English.  Elements carry data-i18n="key"
// (text) or data-i18n-title="key" (tooltip); t(key) gives a string for code.
export const STRINGS = {
  'zh-CN': {
    title: '网格监控指挥大屏', lang: 'English', layers: '图层', colorBy: '网格着色',
    byCount: '警情数量', byCoverage: '视频覆盖率', byHotspot: '热点等级',
    time: '时间范围', h24: '近24小时', d7: '近7天', d30: '近30天', year: '全年', custom: '自定义',
    play: '按周播放', pause: '暂停', from: '起', to: '止', apply: '应用',
    categories: '警情类别', severity: '最低等级', all: '全部',
    legend: '图例', grids: '网格', incidents: '警情', clusters: '警情聚合', heatmap: '热力图',
    cameras: '摄像头', views: '摄像头视域', blindSpots: '监控盲区', rooms: '派出所/警务室', teams: '巡逻队',
    available: '空闲', busy: '出警中', offline: '离线', online: '在线', camOffline: '离线摄像头',
    noData: '无数据', notAvailable: '暂不可用（服务未提供）', countedInPage: '（页面内统计）',
    low: '少', high: '多', hot99: '热点 99%', hot95: '热点 95%', hot90: '热点 90%', ns: '不显著',
    cold90: '冷点 90%', cold95: '冷点 95%', cold99: '冷点 99%',
    dispatcher: '调度', planner: '规划', wall: '大屏模式', exitWall: '退出大屏',
    clickMap: '点击地图选择警情位置', grid: '网格', room: '责任派出所', nearestRoom: '最近派出所',
    seeing: '可见该点的摄像头', nearestTeams: '最近空闲巡逻队', distance: '距离', assign: '派遣',
    token: '调度令牌', saveToken: '保存', tokenSaved: '令牌已保存（仅本次会话）', incident: '警情编号',
    assigned: '已派遣', failed: '失败', dispatchNA: '调度服务暂不可用', none: '无',
    live: '实时', liveOff: '实时连接中断，正在重连…', liveNA: '实时推送暂不可用',
    newIncident: '新警情', population: '人口', area: '面积(km²)', coverage: '覆盖率', hotspot: '热点',
    id: '编号', name: '名称', loading: '加载中…', rows: '行', asOf: '数据截至',
    category_theft: '盗窃', category_dispute: '纠纷', category_traffic: '交通', category_fraud: '诈骗',
    category_burglary: '入室盗窃', category_assault: '殴打', category_drugs: '涉毒', category_vandalism: '毁坏财物',
    category_other: '其他', zoomIn: '放大查看单个警情', km: '千米', m: '米',
    gcjNote: '底图为GCJ-02坐标：数据已按城市中心偏移量整体平移（误差数米）',
  },
  en: {
    title: 'Grid command wall', lang: '中文', layers: 'Layers', colorBy: 'Grid colour',
    byCount: 'Incident count', byCoverage: 'Camera coverage', byHotspot: 'Hotspot class',
    time: 'Time window', h24: 'Last 24 h', d7: 'Last 7 d', d30: 'Last 30 d', year: 'Year', custom: 'Custom',
    play: 'Play by week', pause: 'Pause', from: 'From', to: 'To', apply: 'Apply',
    categories: 'Categories', severity: 'Min severity', all: 'All',
    legend: 'Legend', grids: 'Grids', incidents: 'Incidents', clusters: 'Incident clusters', heatmap: 'Heatmap',
    cameras: 'Cameras', views: 'Camera views', blindSpots: 'Blind spots', rooms: 'Police rooms', teams: 'Teams',
    available: 'Available', busy: 'Busy', offline: 'Offline', online: 'Online', camOffline: 'Camera offline',
    noData: 'No data', notAvailable: 'not available (service missing)', countedInPage: '(counted in page)',
    low: 'low', high: 'high', hot99: 'Hot 99%', hot95: 'Hot 95%', hot90: 'Hot 90%', ns: 'Not significant',
    cold90: 'Cold 90%', cold95: 'Cold 95%', cold99: 'Cold 99%',
    dispatcher: 'Dispatch', planner: 'Planner', wall: 'Wall mode', exitWall: 'Exit wall',
    clickMap: 'Click the map where the incident is', grid: 'Grid', room: 'Police room', nearestRoom: 'Nearest room',
    seeing: 'Cameras that see the spot', nearestTeams: 'Nearest available teams', distance: 'Distance', assign: 'Assign',
    token: 'Dispatcher token', saveToken: 'Save', tokenSaved: 'Token saved (this session only)', incident: 'Incident id',
    assigned: 'Assigned', failed: 'Failed', dispatchNA: 'Dispatch service not available', none: 'none',
    live: 'Live', liveOff: 'Live connection lost, reconnecting…', liveNA: 'Live events not available',
    newIncident: 'New incident', population: 'Population', area: 'Area (km²)', coverage: 'Coverage', hotspot: 'Hotspot',
    id: 'Id', name: 'Name', loading: 'Loading…', rows: 'rows', asOf: 'Data as of',
    category_theft: 'Theft', category_dispute: 'Dispute', category_traffic: 'Traffic', category_fraud: 'Fraud',
    category_burglary: 'Burglary', category_assault: 'Assault', category_drugs: 'Drugs', category_vandalism: 'Vandalism',
    category_other: 'Other', zoomIn: 'zoom in for single incidents', km: 'km', m: 'm',
    gcjNote: 'GCJ-02 basemap: data shifted by the offset at the city centre (a few metres off)',
  },
};

let lang = 'en';

export function pickLanguage() {
  const q = new URLSearchParams(location.search).get('lang');
  const saved = (() => { try { return localStorage.getItem('gw.lang'); } catch { return null; } })();
  const want = q || saved || navigator.language || 'en';
  return want.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function setLanguage(l) {
  lang = STRINGS[l] ? l : 'en';
  try { localStorage.setItem('gw.lang', lang); } catch { /* private mode */ }
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  document.title = t('title');
}

export function getLanguage() { return lang; }

export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
}

export function categoryLabel(c) {
  const k = 'category_' + c;
  return STRINGS[lang][k] ? STRINGS[lang][k] : c;
}
