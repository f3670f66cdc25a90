// A `wx` for the tests that refuses what WeChat refuses (see README.md,
// "What the tests hold the code to"):
// - requestSubscribeMessage outside the synchronous run of a tap handler
//   ("can only be invoked by user TAP gesture."), with no ids, or with more
//   than 3 (errCode 20003);
// - location, album and camera interfaces before the user agreed to the
//   privacy guide (errno 104, after asking the onNeedPrivacyAuthorization
//   listener, which must answer with a real agreePrivacyAuthorization button),
//   and interfaces the guide does not declare (errno 112);
// - chooseLocation / getLocation not declared in app.json requiredPrivateInfos;
// - HTTP (not HTTPS) domains outside the developer version;
// - navigating to a page app.json does not list, or to a tab page with
//   navigateTo (and switchTab to a page that is not a tab).
// WeChat answers asynchronously: so does the mock. Every refusal is recorded
// in calls.refused.
const fs = require('fs')
const path = require('path')

const APP = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'app.json'), 'utf8'))
const TABS = APP.tabBar.list.map((t) => t.pagePath)

const PRIVACY_APIS = ['chooseLocation', 'getLocation', 'getFuzzyLocation', 'chooseMedia', 'chooseImage', 'chooseVideo', 'saveImageToPhotosAlbum', 'scanCode', 'requirePrivacyAuthorize']
const TAP_ONLY = 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.'
const TOO_MANY = 'requestSubscribeMessage:fail Templates count out of max bounds'

function later(fn) {
  Promise.resolve().then(fn)
}

function answer(options, ok, res) {
  later(() => {
    const callback = ok ? options.success : options.fail
    if (callback) callback(res)
    if (options.complete) options.complete(res)
  })
}

function pagePath(url) {
  return url.replace(/^\//, '').split('?')[0]
}

function refuse(m, api, options, res) {
  m.calls.refused.push(Object.assign({ api }, res))
  answer(options, false, res)
}

// HTTPS and the console's domain lists are enforced outside the developer version.
function domainAllowed(m, api, options) {
  if (m.o.envVersion === 'develop' || /^https:\/\//.test(options.url)) return true
  refuse(m, api, options, { errMsg: api + ':fail url not in domain list' })
  return false
}

function privacyGate(m, api, options, run) {
  const privacy = m.privacy
  if (m.o.privacyDeclared.indexOf(api) < 0) return refuse(m, api, options, { errMsg: api + ':fail api scope is not declared in the privacy agreement', errno: 112 })
  if (privacy.agreed) return run()
  const denied = () => refuse(m, api, options, { errMsg: api + ':fail privacy permission is not authorized', errno: 104 })
  if (!privacy.listener) return denied()
  let settled = false
  const resolve = (res) => {
    if (settled || !res || res.event === 'exposureAuthorization') return
    settled = true
    // The base library checks that the named agree button was really tapped.
    if (res.event === 'agree' && privacy.clicked.has(res.buttonId)) {
      privacy.agreed = true
      run()
    } else denied()
  }
  return later(() => privacy.listener(resolve, { referrer: api }))
}

function declared(m, api, options) {
  if ((APP.requiredPrivateInfos || []).indexOf(api) >= 0) return true
  refuse(m, api, options, { errMsg: api + ':fail the api need to be declared in the requiredPrivateInfos field in app.json/ext.json' })
  return false
}

function respond(m, options, fallback) {
  for (const fn of m.responders) {
    const res = fn(options)
    if (res) return res
  }
  return fallback(options)
}

function reply(options, res) {
  if (res.fail) answer(options, false, res.fail)
  else answer(options, true, Object.assign({ header: {} }, res))
}

function networkApis(m) {
  const calls = m.calls
  return {
    request(options) {
      calls.request.push(options)
      if (domainAllowed(m, 'request', options)) reply(options, respond(m, options, () => ({ statusCode: 404, data: { error: { code: 'not_found', message: '找不到该资源' } } })))
    },
    uploadFile(options) {
      calls.uploadFile.push(options)
      let progress = null
      const task = { onProgressUpdate: (fn) => (progress = fn) }
      if (!domainAllowed(m, 'uploadFile', options)) return task
      setTimeout(() => {
        if (progress) progress({ progress: 50 })
        const res = respond(m, Object.assign({ method: 'UPLOAD' }, options), () => ({ statusCode: 201, data: JSON.stringify({ id: 'p' + calls.uploadFile.length }) }))
        if (progress) progress({ progress: 100 })
        reply(options, res)
      }, 0)
      return task
    },
    downloadFile(options) {
      calls.downloadFile.push(options)
      if (!domainAllowed(m, 'downloadFile', options)) return
      const res = respond(m, Object.assign({ method: 'DOWNLOAD' }, options), () => ({ statusCode: 200 }))
      reply(options, res.fail ? res : Object.assign({ tempFilePath: 'wxfile://tmp/export.xlsx' }, res))
    },
    login(options) {
      calls.login += 1
      m.loginCode += 1
      answer(options, true, { code: 'code-' + m.loginCode, errMsg: 'login:ok' })
    },
  }
}

function subscribeApis(m) {
  return {
    requestSubscribeMessage(options) {
      const ids = options.tmplIds || []
      if (!m.tapDepth) return refuse(m, 'requestSubscribeMessage', options, { errMsg: TAP_ONLY })
      if (!ids.length) return refuse(m, 'requestSubscribeMessage', options, { errMsg: "requestSubscribeMessage:fail TmplIds can't be empty", errCode: 10001 })
      if (ids.length > 3) return refuse(m, 'requestSubscribeMessage', options, { errMsg: TOO_MANY, errCode: 20003 })
      m.calls.subscribe.push(ids.slice())
      return answer(options, true, Object.assign({ errMsg: 'requestSubscribeMessage:ok' }, m.scripted.subscribe(ids)))
    },
  }
}

function privacyApis(m) {
  const { calls, privacy, scripted } = m
  return {
    onNeedPrivacyAuthorization(listener) {
      privacy.listener = listener
    },
    getPrivacySetting(options) {
      answer(options, true, { needAuthorization: !privacy.agreed, privacyContractName: '《小区问题随手拍小程序隐私保护指引》' })
    },
    requirePrivacyAuthorize(options) {
      privacyGate(m, 'requirePrivacyAuthorize', options, () => answer(options, true, { errMsg: 'requirePrivacyAuthorize:ok' }))
    },
    openPrivacyContract(options) {
      calls.privacyContract += 1
      answer(options || {}, true, {})
    },
    chooseMedia(options) {
      privacyGate(m, 'chooseMedia', options, () => {
        calls.chooseMedia.push(options)
        if (!(options.count >= 1 && options.count <= 20)) return refuse(m, 'chooseMedia', options, { errMsg: 'chooseMedia:fail invalid count' })
        return answer(options, true, scripted.media(options.count))
      })
    },
    chooseLocation(options) {
      if (declared(m, 'chooseLocation', options)) {
        privacyGate(m, 'chooseLocation', options, () => {
          calls.chooseLocation.push(options)
          answer(options, true, scripted.location())
        })
      }
    },
    getLocation(options) {
      if (declared(m, 'getLocation', options)) privacyGate(m, 'getLocation', options, () => answer(options, true, { latitude: 38.28, longitude: 106.25 }))
    },
    saveImageToPhotosAlbum(options) {
      privacyGate(m, 'saveImageToPhotosAlbum', options, () => answer(options, true, {}))
    },
    scanCode(options) {
      // The camera: held back until the privacy guide is agreed to, like the album.
      privacyGate(m, 'scanCode', options, () => {
        calls.scanCode.push(options)
        answer(options, true, scripted.scan())
      })
    },
  }
}

function navigate(m, type, options) {
  const page = pagePath(options.url || '')
  const isTab = TABS.indexOf(page) >= 0
  let problem = ''
  if (APP.pages.indexOf(page) < 0) problem = type + ':fail page "' + page + '" is not found'
  else if (type === 'switchTab' && !isTab) problem = 'switchTab:fail can not switch to no-tabBar page'
  else if (type !== 'switchTab' && isTab) problem = type + ':fail can not ' + type + ' a tabbar page'
  if (problem) return refuse(m, type, options, { errMsg: problem })
  m.calls.navigate.push({ type, url: options.url })
  return answer(options, true, { errMsg: type + ':ok' })
}

function viewApis(m) {
  const calls = m.calls
  return {
    previewImage(options) {
      calls.previewImage.push(options)
      const urls = options.urls
      const ok = Array.isArray(urls) && urls.length && urls.every((u) => typeof u === 'string' && u) && urls.indexOf(options.current) >= 0
      if (!ok) return refuse(m, 'previewImage', options, { errMsg: 'previewImage:fail parameter error' })
      return answer(options, true, {})
    },
    openLocation(options) {
      calls.openLocation.push(options)
      if (typeof options.latitude !== 'number' || typeof options.longitude !== 'number') return refuse(m, 'openLocation', options, { errMsg: 'openLocation:fail invalid latitude or longitude' })
      return answer(options, true, {})
    },
    openDocument(options) {
      calls.openDocument.push(options)
      answer(options, true, {})
    },
    navigateTo: (options) => navigate(m, 'navigateTo', options),
    redirectTo: (options) => navigate(m, 'redirectTo', options),
    switchTab: (options) => navigate(m, 'switchTab', options),
    navigateBack(options) {
      calls.navigate.push({ type: 'navigateBack' })
      answer(options || {}, true, {})
    },
  }
}

function uiApis(m) {
  const { calls, storage } = m
  return {
    showToast: (options) => calls.toast.push(options),
    showModal(options) {
      calls.modal.push(options)
      answer(options, true, m.scripted.modal(options))
    },
    showLoading() {},
    hideLoading() {},
    stopPullDownRefresh: () => (calls.stopPullDownRefresh += 1),
    setNavigationBarTitle() {},
    makePhoneCall: (options) => answer(options, true, {}),
    getAccountInfoSync: () => ({ miniProgram: { appId: 'wx0000000000000000', envVersion: m.o.envVersion, version: '' } }),
    getStorageSync: (key) => (storage[key] === undefined ? '' : storage[key]),
    setStorageSync: (key, value) => (storage[key] = JSON.parse(JSON.stringify(value))),
    removeStorageSync: (key) => delete storage[key],
  }
}

function createWx(settings) {
  const m = {
    o: Object.assign({ envVersion: 'develop', privacyAgreed: false, privacyDeclared: PRIVACY_APIS }, settings || {}),
    storage: {},
    calls: {
      request: [], uploadFile: [], downloadFile: [], toast: [], modal: [], navigate: [], refused: [], subscribe: [], previewImage: [],
      openLocation: [], openDocument: [], chooseMedia: [], chooseLocation: [], scanCode: [], privacyContract: 0, login: 0, stopPullDownRefresh: 0,
    },
    responders: [],
    privacy: { agreed: false, listener: null, clicked: new Set() },
    scripted: {
      subscribe: (ids) => Object.fromEntries(ids.map((id) => [id, 'accept'])),
      media: (count) => ({ tempFiles: Array.from({ length: Math.min(count, 2) }, (_, i) => ({ tempFilePath: 'wxfile://tmp/photo-' + i + '.jpg', size: 1000, fileType: 'image' })) }),
      location: () => ({ name: '幸福小区3号楼', address: '宁夏永宁县', latitude: 38.28, longitude: 106.25 }),
      scan: () => ({ result: 'https://xiaoqu.example.gov.cn/console/l/ABCD1234' }),
      modal: () => ({ confirm: true, cancel: false }),
    },
    tapDepth: 0,
    loginCode: 0,
  }
  m.privacy.agreed = m.o.privacyAgreed
  const helpers = {
    calls: m.calls,
    storage: m.storage,
    privacy: m.privacy,
    scripted: m.scripted,
    respond: (fn) => m.responders.push(fn),
    // Runs fn as the synchronous part of a user's tap.
    gesture(fn) {
      m.tapDepth += 1
      try {
        return fn()
      } finally {
        m.tapDepth -= 1
      }
    },
    // The user tapped a <button open-type="agreePrivacyAuthorization" id=...>.
    privacyButtonTapped: (id) => m.privacy.clicked.add(id),
  }
  return Object.assign(helpers, networkApis(m), subscribeApis(m), privacyApis(m), viewApis(m), uiApis(m))
}

// app.json's permission accepts these keys only.
const PERMISSION_KEYS = ['scope.userLocation', 'scope.userFuzzyLocation']

module.exports = { createWx, PRIVACY_APIS, PERMISSION_KEYS, TAP_ONLY, TOO_MANY }
