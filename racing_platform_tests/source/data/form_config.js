/* Local stand-in for https://www.racing.com/form/config.js (reference §1.2), same shape as the public copy in
   cycchow/nz-au-scraper's tests. The keys are fakes; real ones are never committed. */
window.siteConfig={GraphqlEndpoint:"https://graphql.rmdprod.racing.com/",ChampionDataEndpoint:"https://graphql.rmdprod.racing.com/",ChampionDataEndpointKey:"da2-fixturechampiondatakey000000",DxpExternalDataApiKey:"da2-fixturecalendarkey0000000000",DxpExternalDataUrl:"https://graphql.api.racing.com"};
