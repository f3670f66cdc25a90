// The one file a county edits before publishing: where the backend lives for
// each version of the mini-program (wx.getAccountInfoSync().miniProgram.envVersion).
// trial and release must be HTTPS domains listed in the admin console as
// request, uploadFile and downloadFile legal domains (see README.md).
module.exports = {
  apiPrefix: '/api/v1',
  baseUrls: {
    // WeChat DevTools against `make run` (tick 不校验合法域名 in DevTools).
    develop: 'http://127.0.0.1:8000',
    // 体验版: the county's test server.
    trial: 'https://xiaoqu-test.example.gov.cn',
    // 正式版: the county's production server.
    release: 'https://xiaoqu.example.gov.cn',
  },
}
