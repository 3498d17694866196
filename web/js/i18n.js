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
    token: '调度令牌', saveToken: '保存', tokenSaved: '令牌已保存（仅本次会话）', tokenBad: '令牌无效', incident: '警情编号',
    assigned: '已派遣', failed: '失败', dispatchNA: '调度服务暂不可用', none: '无',
    live: '实时', liveOff: '实时连接中断，正在重连…', liveNA: '实时推送暂不可用',
    newIncident: '新警情', population: '人口', area: '面积(km²)', coverage: '覆盖率', hotspot: '热点',
    id: '编号', name: '名称', loading: '加载中…', rows: '行', asOf: '数据截至',
    category_theft: '盗窃', category_dispute: '纠纷', category_traffic: '交通', category_fraud: '诈骗',
    category_burglary: '入室盗窃', category_assault: '殴打', category_drugs: '涉毒', category_vandalism: '毁坏财物',
    category_other: '其他', zoomIn: '放大查看单个警情', km: '千米', m: '米',
    fastestTeams: '最快到达的空闲巡逻队（按道路）', eta: '预计', min: '分钟', byRoad: '路程', noRoadNear: '该点附近没有道路，按直线距离排序',
    gcjNote: '底图为GCJ-02坐标：数据已按城市中心偏移量整体平移（误差数米）',
    pl_token: '规划令牌', pl_draft: '草案', pl_pick: '— 选择草案 —', pl_newName: '新草案名称', pl_create: '新建草案',
    pl_created: '已新建草案“%s”（#%s）', pl_split: '拆分', pl_move: '调整边界', pl_merge: '合并', pl_cancel: '取消',
    pl_hintSplit: '点击要拆分的网格', pl_hintLine: '依次点击画出穿过网格的拆分线，双击或回车完成，Esc取消，退格删除上一点',
    pl_hintMove1: '点击相邻两个网格中的第一个', pl_hintMove2: '点击相邻的第二个网格',
    pl_hintMoveLine: '画出两网格新的共同边界（从两网格合并区域的一侧贯穿到另一侧），双击或回车完成',
    pl_hintMerge1: '点击要合并的第一个网格（保留其编号）', pl_hintMerge2: '点击相邻的第二个网格，并入第一个',
    pl_selected: '已选', pl_needTwoPoints: '线至少需要两个点', pl_needDraft: '请先选择或新建草案',
    pl_draftPublished: '该草案已发布，如需修改请新建草案', pl_edited: '已修改', pl_error: '错误', pl_noToken: '需要规划令牌',
    pl_validation: '拓扑检查', pl_noProblems: '无问题：%s个网格完整覆盖辖区', pl_problems: '问题',
    pl_issue_invalid: '无效几何', pl_issue_overlap: '重叠', pl_issue_gap: '缝隙', pl_issue_outside: '超出辖区',
    pl_issue_multipart: '多块', pl_issue_sliver: '碎片网格', pl_issue_oversize: '过大网格',
    pl_balance: '均衡度（草案 / 现行）', pl_measure: '指标', pl_cvDraft: '变异系数·草案', pl_cvPub: '变异系数·现行',
    pl_mmDraft: '最大/平均·草案', pl_mmPub: '最大/平均·现行', pl_count: '网格数',
    pl_publish: '发布草案', pl_rollback: '回滚到版本', pl_doRollback: '回滚', pl_version: '现行版本 %s',
    pl_confirmPublish: '将草案“%s”发布为新的网格版本？', pl_confirmRollback: '回滚：将版本%s的副本发布为新版本？',
    pl_published: '已发布为版本%s', pl_rolledBack: '已回滚到版本%s（现为版本%s）',
    pl_zoomHint: '放大到12级以上可查看草案全部网格；当前只显示变更的网格',
    hsView: '热点视图', hotspotClusters: '热点聚集区', hsGistar: '整网格 Gi*',
    trend_new: '新出现', trend_intensifying: '加剧', trend_persistent: '持续', trend_diminishing: '减弱', trend_sporadic: '零星',
    cl_incidents: '事件', cl_expected: '预期', cl_rr: '相对风险', cl_p: 'p 值', cl_trend: '趋势', cl_recent: '近期新出现',
    cl_count: '热点聚集区数', cl_maxRR: '最高相对风险', yes: '是', no: '否',
    command: '指挥', cm_jurisdiction: '辖区', cm_all: '全部辖区', cm_overdue: '超时警情', cm_figures: '处置指标',
    cm_allTime: '（全部时间）', cm_flow: '处置流程', cm_unavailable: '暂不可用', cm_overdueCount: '超时 %s 起',
    cm_state: '状态', cm_level: '层级', cm_expected: '待办动作', cm_overdueBy: '已超时',
    cm_clickIncident: '点击地图上的警情或超时列表中的一行查看处置流程', cm_noFlow: '无法读取处置流程', cm_now: '当前',
    cm_deadline: '时限', cm_actor: '操作人', cm_assignee: '承办', cm_noSteps: '尚无流转记录',
    cm_incidents: '警情数', cm_overdueShare: '超时占比', cm_escalation: '上报率', cm_toAccept: '受理用时（中位数）',
    cm_toClose: '办结用时（中位数）',
    lv_1: '市', lv_2: '县', lv_3: '乡镇', lv_4: '村',
    st_reported: '已上报', st_accepted: '已受理', st_assigned: '已派遣', st_on_scene: '已到场', st_resolved: '已处置',
    st_closed: '已办结', st_returned: '已退回', st_reopened: '已重启', st_escalated: '已上报上级',
    ac_accept: '受理', ac_assign: '派遣', ac_arrive: '到场', ac_resolve: '处置', ac_close: '办结', ac_return: '退回',
    ac_reopen: '重启', ac_escalate: '上报上级', ac_hand_down: '下派',
    u_d: '天', u_h: '小时', u_min: '分', u_s: '秒', u_sep: '',
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
    token: 'Dispatcher token', saveToken: 'Save', tokenSaved: 'Token saved (this session only)', tokenBad: 'token not accepted', incident: 'Incident id',
    assigned: 'Assigned', failed: 'Failed', dispatchNA: 'Dispatch service not available', none: 'none',
    live: 'Live', liveOff: 'Live connection lost, reconnecting…', liveNA: 'Live events not available',
    newIncident: 'New incident', population: 'Population', area: 'Area (km²)', coverage: 'Coverage', hotspot: 'Hotspot',
    id: 'Id', name: 'Name', loading: 'Loading…', rows: 'rows', asOf: 'Data as of',
    category_theft: 'Theft', category_dispute: 'Dispute', category_traffic: 'Traffic', category_fraud: 'Fraud',
    category_burglary: 'Burglary', category_assault: 'Assault', category_drugs: 'Drugs', category_vandalism: 'Vandalism',
    category_other: 'Other', zoomIn: 'zoom in for single incidents', km: 'km', m: 'm',
    fastestTeams: 'Fastest available teams (by road)', eta: 'ETA', min: 'min', byRoad: 'route', noRoadNear: 'No road near this spot: ranked by straight-line distance',
    gcjNote: 'GCJ-02 basemap: data shifted by the offset at the city centre (a few metres off)',
    pl_token: 'Planner token', pl_draft: 'Draft', pl_pick: '— pick a draft —', pl_newName: 'new draft name', pl_create: 'New draft',
    pl_created: 'Draft “%s” created (#%s)', pl_split: 'Split', pl_move: 'Move boundary', pl_merge: 'Merge', pl_cancel: 'Cancel',
    pl_hintSplit: 'Click the grid to split', pl_hintLine: 'Click points of a line across the grid; double-click or Enter to finish, Esc to cancel, Backspace to undo a point',
    pl_hintMove1: 'Click the first of two neighbouring grids', pl_hintMove2: 'Click the neighbouring second grid',
    pl_hintMoveLine: 'Draw the new shared boundary, from one side of the two grids to the other; double-click or Enter to finish',
    pl_hintMerge1: 'Click the first grid to merge (it keeps its id)', pl_hintMerge2: 'Click the neighbouring grid to merge into it',
    pl_selected: 'Selected', pl_needTwoPoints: 'A line needs two points or more', pl_needDraft: 'Pick or create a draft first',
    pl_draftPublished: 'This draft is published; create a new draft to edit', pl_edited: 'Applied', pl_error: 'Error', pl_noToken: 'a planner token is needed',
    pl_validation: 'Validation', pl_noProblems: 'No problems: %s grids tile the jurisdiction', pl_problems: 'Problems',
    pl_issue_invalid: 'invalid', pl_issue_overlap: 'overlaps', pl_issue_gap: 'gaps', pl_issue_outside: 'outside',
    pl_issue_multipart: 'multipart', pl_issue_sliver: 'slivers', pl_issue_oversize: 'oversize',
    pl_balance: 'Balance (draft / published)', pl_measure: 'Measure', pl_cvDraft: 'CV draft', pl_cvPub: 'CV published',
    pl_mmDraft: 'max/mean draft', pl_mmPub: 'max/mean published', pl_count: 'Grids',
    pl_publish: 'Publish draft', pl_rollback: 'Roll back to version', pl_doRollback: 'Roll back', pl_version: 'Published version %s',
    pl_confirmPublish: 'Publish draft “%s” as the new grid version?', pl_confirmRollback: 'Roll back: publish a copy of version %s as the new version?',
    pl_published: 'Published as version %s', pl_rolledBack: 'Rolled back to version %s (now version %s)',
    pl_zoomHint: 'Zoom in to 12 or more to see every grid of the draft; only its changed grids are drawn now',
    hsView: 'Hotspot view', hotspotClusters: 'Hotspot clusters', hsGistar: 'Whole-grid Gi*',
    trend_new: 'New', trend_intensifying: 'Intensifying', trend_persistent: 'Persistent', trend_diminishing: 'Diminishing', trend_sporadic: 'Sporadic',
    cl_incidents: 'incidents', cl_expected: 'expected', cl_rr: 'relative risk', cl_p: 'p', cl_trend: 'trend', cl_recent: 'new this month',
    cl_count: 'Hotspot clusters', cl_maxRR: 'highest relative risk', yes: 'yes', no: 'no',
    command: 'Command', cm_jurisdiction: 'Jurisdiction', cm_all: 'All jurisdictions', cm_overdue: 'Overdue incidents', cm_figures: 'Response figures',
    cm_allTime: '(all time)', cm_flow: 'Incident flow', cm_unavailable: 'not available', cm_overdueCount: '%s overdue',
    cm_state: 'State', cm_level: 'Level', cm_expected: 'Expected action', cm_overdueBy: 'Overdue by',
    cm_clickIncident: 'Click an incident on the map or a row of the overdue list to see its flow', cm_noFlow: 'No flow for', cm_now: 'Now',
    cm_deadline: 'deadline', cm_actor: 'by', cm_assignee: 'assignee', cm_noSteps: 'no transitions yet',
    cm_incidents: 'Incidents', cm_overdueShare: 'Overdue share', cm_escalation: 'Escalation rate', cm_toAccept: 'Median time to accept',
    cm_toClose: 'Median time to close',
    lv_1: 'Prefecture', lv_2: 'County', lv_3: 'Township', lv_4: 'Village',
    st_reported: 'Reported', st_accepted: 'Accepted', st_assigned: 'Assigned', st_on_scene: 'On scene', st_resolved: 'Resolved',
    st_closed: 'Closed', st_returned: 'Returned', st_reopened: 'Reopened', st_escalated: 'Escalated',
    ac_accept: 'Accept', ac_assign: 'Assign', ac_arrive: 'Arrive', ac_resolve: 'Resolve', ac_close: 'Close', ac_return: 'Return',
    ac_reopen: 'Reopen', ac_escalate: 'Escalate', ac_hand_down: 'Hand down',
    u_d: 'd', u_h: 'h', u_min: 'min', u_s: 's', u_sep: ' ',
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
